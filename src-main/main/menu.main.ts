// The application menu. Electron's default menu binds Ctrl+Z / Ctrl+Shift+Z (Edit › Undo/Redo) and Ctrl+0 /
// Ctrl+= / Ctrl+- (View › zoom) as accelerators, which would reach the page as browser actions instead of the
// canvas's own undo and zoom keys. This menu keeps the text-editing roles that text fields need (cut, copy,
// paste, select all: on macOS they only work through the menu) and leaves undo, redo and zoom to the canvas.
import { Menu, type MenuItemConstructorOptions } from 'electron';

export function installAppMenu(devTools: boolean): void {
  const isMac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    { role: 'fileMenu' },
    {
      label: 'Edit',
      submenu: [{ role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }],
    },
    {
      label: 'View',
      submenu: [{ role: 'togglefullscreen' }, ...(devTools ? [{ role: 'toggleDevTools' as const }] : [])],
    },
    { role: 'windowMenu' },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

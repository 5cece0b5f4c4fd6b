// Undo/redo as a list of recorded changes, bounded by memory rather than by entry count.
// Each change knows how to undo and redo itself and how many bytes it holds (stroke patches hold
// only their dirty rectangle; image changes hold the replaced rasters).

export interface Change {
  readonly label: string;
  /** Bytes this change keeps alive (pixel buffers); used against the budget. */
  readonly bytes: number;
  undo(): void;
  redo(): void;
}

export const DEFAULT_HISTORY_BUDGET = 256 * 1024 * 1024;

export class History {
  undoCount = $state(0);
  redoCount = $state(0);
  /** Bytes held by all undo and redo entries. */
  bytes = $state(0);
  readonly canUndo = $derived(this.undoCount > 0);
  readonly canRedo = $derived(this.redoCount > 0);

  private undoStack: Change[] = [];
  private redoStack: Change[] = [];

  constructor(public budgetBytes = DEFAULT_HISTORY_BUDGET) {}

  /** Record a change that has already been applied. Clears redo; evicts the oldest entries over budget. */
  push(change: Change): void {
    this.redoStack = [];
    this.undoStack.push(change);
    this.trim();
    this.sync();
  }

  undo(): boolean {
    const c = this.undoStack.pop();
    if (!c) return false;
    c.undo();
    this.redoStack.push(c);
    this.sync();
    return true;
  }

  redo(): boolean {
    const c = this.redoStack.pop();
    if (!c) return false;
    c.redo();
    this.undoStack.push(c);
    this.sync();
    return true;
  }

  clear(): void {
    this.undoStack = [];
    this.redoStack = [];
    this.sync();
  }

  /** Labels, oldest first (for the UI and tests). */
  get labels(): string[] {
    return this.undoStack.map((c) => c.label);
  }

  setBudget(bytes: number): void {
    this.budgetBytes = bytes;
    this.trim();
    this.sync();
  }

  private total(): number {
    let n = 0;
    for (const c of this.undoStack) n += c.bytes;
    for (const c of this.redoStack) n += c.bytes;
    return n;
  }

  /** Drop the oldest undo entries until within budget; the newest entry is always kept. */
  private trim(): void {
    let total = this.total();
    while (total > this.budgetBytes && this.undoStack.length > 1) {
      total -= this.undoStack.shift()!.bytes;
    }
  }

  private sync(): void {
    this.undoCount = this.undoStack.length;
    this.redoCount = this.redoStack.length;
    this.bytes = this.total();
  }
}

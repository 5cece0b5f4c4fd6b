// One onnxruntime backend (execution provider) as the engine names it. Kept free of imports: the studio
// contract re-exports this type to the renderer.

export interface BackendInfo {
  /** Our name: 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu' | 'tensorrt' (or another name onnxruntime reports). */
  name: string;
  /** onnxruntime-node lists it for this platform (bundled or installable); false means it cannot load here. */
  listed: boolean;
  /** Ships inside onnxruntime-node's binary (cuda/tensorrt need extra provider libraries). */
  bundled: boolean;
}

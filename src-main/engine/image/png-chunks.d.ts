// Type declarations for the small CommonJS PNG chunk packages (they ship no types).
declare module 'png-chunks-extract' {
  interface PngChunk {
    name: string;
    data: Uint8Array;
  }
  function extractChunks(data: Uint8Array): PngChunk[];
  export default extractChunks;
}

declare module 'png-chunks-encode' {
  function encodeChunks(chunks: { name: string; data: Uint8Array }[]): Uint8Array;
  export default encodeChunks;
}

declare module 'png-chunk-text' {
  const text: {
    encode(keyword: string, content: string): { name: string; data: Uint8Array };
    decode(data: Uint8Array | { name: string; data: Uint8Array }): { keyword: string; text: string };
  };
  export default text;
}

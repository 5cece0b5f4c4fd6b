// Live token counts for the prompt boxes ("12 / 75"), asked of the host's tokenizer for the chosen model.
import type { StudioApi, TokenCount } from '@shared/contract.js';

export class TokenCounter {
  prompt = $state.raw<TokenCount | null>(null);
  negative = $state.raw<TokenCount | null>(null);
  private seq = { prompt: 0, negative: 0 };

  constructor(private readonly api: StudioApi) {}

  async count(which: 'prompt' | 'negative', text: string, model: string): Promise<void> {
    const n = ++this.seq[which];
    const reply = await this.api.invoke('countTokens', model ? { text, model } : { text });
    if (n !== this.seq[which]) return; // a newer count is on its way
    this[which] = reply.ok ? reply.value : null;
  }
}

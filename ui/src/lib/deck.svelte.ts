// The deck's status, loaded once and shared by the pages that show it.

import { api, type DeckStatus } from './api';

class DeckStatusState {
  status = $state<DeckStatus | null>(null);
  error = $state<unknown>(null);
  loading = $state(false);

  async load(): Promise<void> {
    this.loading = true;
    try {
      this.status = await api.status();
      this.error = null;
    } catch (error) {
      this.status = null;
      this.error = error;
    } finally {
      this.loading = false;
    }
  }
}

export const deck = new DeckStatusState();

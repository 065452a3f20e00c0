/** The WebContents events that end the page it shows (Electron's WebContents has them all). */
export interface PageHost {
  readonly id: number;
  on(event: 'destroyed' | 'render-process-gone' | 'did-navigate', listener: () => void): unknown;
}

/**
 * One connection signal per page shown in a window: it fires when the window closes, its renderer
 * dies, or it loads another page (a reload), so what a page started and nothing else needs (a live
 * training process) ends with it, as the browser host's WebSocket close does for a tab.
 */
export class PageConnections {
  private readonly pages = new Map<number, AbortController>();

  /** Follows a window's WebContents from now on. */
  watch(contents: PageHost): void {
    const gone = () => {
      this.pages.get(contents.id)?.abort();
      this.pages.delete(contents.id);
    };
    contents.on('destroyed', gone);
    contents.on('render-process-gone', gone);
    contents.on('did-navigate', gone);
  }

  /** The signal of the page now shown in WebContents `id`. */
  signal(id: number): AbortSignal {
    let page = this.pages.get(id);
    if (!page) this.pages.set(id, (page = new AbortController()));
    return page.signal;
  }
}

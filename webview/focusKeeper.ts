/**
 * Keeps the keyboard focus on the button that started an action. A VS Code dialog (the freeze
 * reason, the disable confirmation) takes the focus out of the webview; when the webview gets
 * it back, or when the action completes, and nothing inside the page holds it, the invoking
 * button gets it again instead of `<body>` (where the next Tab would start over at the top).
 */
export class FocusKeeper {
  private target: HTMLElement | null = null;

  constructor(private readonly doc: Document = document) {
    const win = doc.defaultView;
    win?.addEventListener('focus', () => this.restore());
    // The user moved on: forget the button, so a later dialog does not pull the focus back.
    doc.addEventListener('focusin', (event) => {
      if (this.target && event.target !== this.target) this.target = null;
    });
  }

  /** Remembers the element that has the focus now (the button being activated). */
  remember(): void {
    const active = this.doc.activeElement;
    this.target = active instanceof HTMLElement && active !== this.doc.body ? active : null;
  }

  /** Gives the remembered element the focus back if the page lost it. */
  restore(): void {
    const target = this.target;
    if (!target?.isConnected) return;
    const active = this.doc.activeElement;
    if (active === null || active === this.doc.body || active === this.doc.documentElement) target.focus();
  }
}

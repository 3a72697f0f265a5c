/** Space left between the sticky header and a control scrolled into view, in CSS pixels. */
const GAP_PX = 8;

/**
 * Keeps the focused control from hiding under the sticky header (WCAG 2.2 2.4.11): the header's
 * height is published as `--gh-header-height` for `scroll-padding-top` (what the browser uses
 * when it scrolls a focused control into view), and a control that still ends up under the
 * header (tabbing backwards, a header that grew) is scrolled down below it.
 */
export function keepFocusBelowHeader(header: HTMLElement, doc: Document = document): void {
  const root = doc.documentElement;
  const publish = (): void => root.style.setProperty('--gh-header-height', `${Math.ceil(header.getBoundingClientRect().height)}px`);
  new ResizeObserver(publish).observe(header);
  publish();
  doc.addEventListener('focusin', (event) => {
    const target = event.target;
    if (!(target instanceof Element) || header.contains(target)) return;
    const covered = header.getBoundingClientRect().bottom + GAP_PX - target.getBoundingClientRect().top;
    if (covered > 0) doc.defaultView?.scrollBy({ top: -covered, behavior: 'instant' });
  });
}

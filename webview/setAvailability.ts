import { setAttr } from './dom';

/**
 * Marks a button unavailable (`aria-disabled`) and, while its request runs, busy (`aria-busy`),
 * without ever setting `disabled`: Chromium moves the focus of a button that turns `disabled`
 * to `<body>`, so the next Tab would start over at the top of the page. An unavailable button
 * stays focusable and announced as dimmed; its click handler must check {@link isUnavailable}.
 */
export function setAvailability(button: HTMLButtonElement, state: { available: boolean; busy: boolean }): void {
  setAttr(button, 'aria-disabled', state.available && !state.busy ? null : 'true');
  setAttr(button, 'aria-busy', state.busy ? 'true' : null);
}

/** True while the button is marked unavailable or busy: a click must do nothing. */
export function isUnavailable(button: HTMLButtonElement): boolean {
  return button.getAttribute('aria-disabled') === 'true';
}

import { spawn } from 'node:child_process';

/**
 * Opens `url` in the user's browser, best effort (the caller has printed it too): `open` on
 * macOS, `xdg-open` elsewhere on Unix, and on Windows `rundll32 url.dll,FileProtocolHandler`,
 * which takes the URL as one argument (`cmd /c start` would parse its `&`s).
 */
export function openBrowser(url: string, platform: NodeJS.Platform = process.platform): void {
  const [command, args] =
    platform === 'darwin' ? ['open', [url]] : platform === 'win32' ? ['rundll32', ['url.dll,FileProtocolHandler', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true, windowsHide: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No browser opener: the printed URL is the way.
  }
}

/**
 * Where the SDK script was loaded from, captured once at load time (the
 * default server URL in a browser): `document.currentScript` for a classic
 * script, `import.meta.url` for a module. Undefined in Node and for file: URLs.
 */
function detect(): string | undefined {
  const candidates: (string | undefined)[] = [];
  try {
    const doc = (globalThis as { document?: { currentScript?: { src?: string } | null } }).document;
    candidates.push(doc?.currentScript?.src);
  } catch {
    // no DOM
  }
  try {
    candidates.push(import.meta.url);
  } catch {
    // bundled without import.meta
  }
  for (const c of candidates) {
    if (typeof c !== 'string') continue;
    try {
      const u = new URL(c);
      if (u.protocol === 'http:' || u.protocol === 'https:') return u.origin;
    } catch {
      // not a URL
    }
  }
  return undefined;
}

/** Origin the SDK was loaded from, if it was served over http(s). */
export const sdkOrigin: string | undefined = detect();

// A household's personal fields sealed under its own key: the mirror of client-core's
// `sealed` module, with the browser's own AES-GCM (WebCrypto). A sealed value is
// 0x01, a 12-byte random nonce, then the ciphertext and its 16-byte tag; the
// associated data is "tungnha/sealed/1", the hamlet, the household and the field
// ("label", "head" or "visits/<visit id>/note"), joined by NUL bytes, so a value moved
// to another household or field does not open. Both sides run
// client-core/tests/fixtures/sealed.json (tests/browser/sealed.mjs).

export const SEALED_FORMAT = 1;
export const SEALED_OVERHEAD = 1 + 12 + 16;
export const KEY_BYTES = 32;
/** The longest a sealed field may be: 200 characters of UTF-8 and the seal. */
export const MAX_SEALED_BYTES = 200 * 4 + SEALED_OVERHEAD;

const encoder = new TextEncoder();
const subtle = () => globalThis.crypto.subtle;
/** Imported WebCrypto keys, by the bytes they came from. */
const imported = new WeakMap();

/** The field name a sealed value is bound to. */
export function fieldOf(what, visit) {
  return what === 'note' ? `visits/${visit}/note` : what;
}

function aad(hamlet, household, field) {
  return encoder.encode(`tungnha/sealed/1\0${hamlet}\0${household}\0${field}`);
}

async function cryptoKey(key) {
  let k = imported.get(key);
  if (!k) {
    k = await subtle().importKey('raw', key, 'AES-GCM', false, ['encrypt', 'decrypt']);
    imported.set(key, k);
  }
  return k;
}

/** A new random household key. */
export function freshKey() {
  return globalThis.crypto.getRandomValues(new Uint8Array(KEY_BYTES));
}

/** Seals `text` as `field` of `household` in `hamlet` (a fresh nonce unless given: the
 *  shared fixture gives one). */
export async function seal(key, hamlet, household, field, text, nonce = globalThis.crypto.getRandomValues(new Uint8Array(12))) {
  const body = new Uint8Array(await subtle().encrypt(
    { name: 'AES-GCM', iv: nonce, additionalData: aad(hamlet, household, field), tagLength: 128 },
    await cryptoKey(key),
    encoder.encode(text),
  ));
  const out = new Uint8Array(1 + nonce.length + body.length);
  out[0] = SEALED_FORMAT;
  out.set(nonce, 1);
  out.set(body, 1 + nonce.length);
  return out;
}

/** Opens a sealed value; throws if it is not one, or does not open with this key here. */
export async function open(key, hamlet, household, field, sealed) {
  if (sealed.length < SEALED_OVERHEAD || sealed[0] !== SEALED_FORMAT) throw new Error('it is not a sealed value');
  let plain;
  try {
    plain = await subtle().decrypt(
      { name: 'AES-GCM', iv: sealed.subarray(1, 13), additionalData: aad(hamlet, household, field), tagLength: 128 },
      await cryptoKey(key),
      sealed.subarray(13),
    );
  } catch {
    throw new Error('it does not open with its household’s key here');
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(plain);
}

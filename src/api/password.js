// Link passwords through the runtime's WebCrypto (src/link/password.rs says what is a valid
// password and stored hash): PBKDF2-SHA256, 256 bits, a random 16-byte salt, 100,000 iterations
// (the most the Workers runtime derives). Stored as `pbkdf2-sha256:{iterations}:{salt}:{hash}`,
// salt and hash base64url without padding, the same algorithm and encoding as Sink's
// `sink-pwd:v1:…` (which src/link/password.rs turns into this form). Here and not in Rust:
// WebCrypto runs PBKDF2 natively, outside the wasm, and a pure-Rust PBKDF2 would add its code
// to every isolate's bundle for what the runtime already has.

const PREFIX = "pbkdf2-sha256:";
const ITERATIONS = 100000;
const SALT_BYTES = 16;
const BITS = 256;

function to_b64url(bytes) {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function from_b64url(text) {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

async function derive(password, salt, iterations) {
  const key = await crypto.subtle.importKey(
    "raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, BITS,
  );
  return new Uint8Array(bits);
}

// A new hash of `password`, in the stored form.
export async function hash_password(password) {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, ITERATIONS);
  return `${PREFIX}${ITERATIONS}:${to_b64url(salt)}:${to_b64url(hash)}`;
}

// The stored form's parts; `null` when it is not one (the Rust side stores only valid ones,
// but a value edited in KV by hand must fail closed).
export function parse_hash(stored) {
  if (typeof stored !== "string" || !stored.startsWith(PREFIX)) return null;
  const parts = stored.slice(PREFIX.length).split(":");
  if (parts.length !== 3) return null;
  const iterations = Number(parts[0]);
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > ITERATIONS) return null;
  try {
    const salt = from_b64url(parts[1]);
    const hash = from_b64url(parts[2]);
    return salt.length > 0 && hash.length === BITS / 8 ? { iterations, salt, hash } : null;
  } catch {
    return null;
  }
}

// Whether `guess` is the password of `stored`. The derived bytes are compared in constant
// time: every byte is looked at whatever the first difference.
export async function verify_password(guess, stored) {
  const parsed = parse_hash(stored);
  if (parsed === null || typeof guess !== "string") return false;
  const actual = await derive(guess, parsed.salt, parsed.iterations);
  let diff = actual.length ^ parsed.hash.length;
  for (let i = 0; i < actual.length; i++) diff |= actual[i] ^ (parsed.hash[i] ?? 0);
  return diff === 0;
}

//! The smallest PNG encoder that does the job: 1-bit greyscale, the image data in *stored*
//! (uncompressed) deflate blocks. A QR code drawn this way is 1 bit a pixel, so even the largest
//! one edgelink draws (2048 px a side) is 512 KiB; the `png` crate, which compresses, added
//! 36 KB gzip to the wasm (docs/api.md, "QR codes"), this adds well under 1 KB.
//!
//! Pure; any PNG reader decodes the result (tests/qr.rs reads one back with pngjs and jsQR).

const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
/// The most a stored deflate block holds.
const STORED_MAX: usize = 0xffff;

/// A `width` × `height` 1-bit greyscale PNG of `rows`: each row `width.div_ceil(8)` bytes,
/// most significant bit first, 1 white. `None` when `rows` is not that long.
pub fn grey1(width: u32, height: u32, rows: &[u8]) -> Option<Vec<u8>> {
    let row_bytes = width.div_ceil(8) as usize;
    if rows.len() != row_bytes.checked_mul(height as usize)? {
        return None;
    }
    // Each row is preceded by its filter type, 0 (none).
    let mut raw = Vec::with_capacity(rows.len() + height as usize);
    for row in rows.chunks(row_bytes.max(1)) {
        raw.push(0);
        raw.extend_from_slice(row);
    }
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    // Bit depth 1, colour type 0 (greyscale), deflate, adaptive filtering, no interlace.
    ihdr.extend_from_slice(&[1, 0, 0, 0, 0]);

    let mut out = Vec::with_capacity(raw.len() + raw.len() / STORED_MAX * 5 + 64);
    out.extend_from_slice(SIGNATURE);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    chunk(&mut out, b"IEND", &[]);
    Some(out)
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    // A chunk is at most 2^31 - 1 bytes; ours are at most a few hundred KiB.
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A zlib stream of `data` in stored blocks: no compression, so no compressor in the wasm.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    // CMF/FLG: deflate, 32 KiB window, no dictionary, fastest (stored); a multiple of 31.
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = if data.is_empty() {
        vec![&[]]
    } else {
        data.chunks(STORED_MAX).collect()
    };
    let last = blocks.len() - 1;
    for (i, block) in blocks.into_iter().enumerate() {
        // BFINAL on the last block, BTYPE 00 (stored); the rest of the byte is padding.
        out.push(u8::from(i == last));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 bytes is the most that can be summed before `b` could overflow.
    for block in data.chunks(5552) {
        for &byte in block {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

/// CRC-32 (IEEE, reflected), bit by bit: a table would be 1 KiB of wasm to speed up a few
/// hundred KiB of image at most.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xedb8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_their_standards() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
        assert_eq!(adler32(&vec![0xff; 100_000]), {
            let (mut a, mut b) = (1u64, 0u64);
            for _ in 0..100_000 {
                a = (a + 0xff) % 65_521;
                b = (b + a) % 65_521;
            }
            ((b << 16) | a) as u32
        });
    }

    #[test]
    fn a_png_has_its_chunks_in_order() {
        // 9 × 2: two bytes a row.
        let png = grey1(9, 2, &[0xff, 0x80, 0x00, 0x00]).unwrap();
        assert_eq!(&png[..8], SIGNATURE);
        assert_eq!(&png[8..16], b"\0\0\0\x0dIHDR");
        assert_eq!(&png[16..24], &[0, 0, 0, 9, 0, 0, 0, 2]);
        assert_eq!(&png[24..29], &[1, 0, 0, 0, 0]);
        assert_eq!(&png[png.len() - 12..], b"\0\0\0\0IEND\xae\x42\x60\x82");
        // IDAT: zlib header, one final stored block of 2 × (1 + 2) bytes, the Adler-32.
        let idat = &png[33..];
        assert_eq!(&idat[4..8], b"IDAT");
        assert_eq!(&idat[8..15], &[0x78, 0x01, 1, 6, 0, 0xf9, 0xff]);
        assert_eq!(&idat[15..21], &[0, 0xff, 0x80, 0, 0, 0]);
        assert!(grey1(9, 2, &[0; 3]).is_none());
    }

    #[test]
    fn large_images_take_several_stored_blocks() {
        let (w, h) = (2048u32, 2048u32);
        let rows = vec![0xaa; (w as usize / 8) * h as usize];
        let png = grey1(w, h, &rows).unwrap();
        let raw = (w as usize / 8 + 1) * h as usize;
        let blocks = raw.div_ceil(STORED_MAX);
        // Signature, IHDR, IDAT (zlib header, 5 bytes a block, Adler-32), IEND.
        assert_eq!(png.len(), 8 + 25 + (12 + 2 + raw + 5 * blocks + 4) + 12);
    }
}

//! ESC/POS: the byte commands thermal receipt and kitchen printers understand (Epson's
//! ESC/POS command reference; most 58 and 80 mm printers follow it). Pure: builds bytes,
//! sends nothing. Text is reduced to ASCII, which every printer's default code page holds.

const ESC: u8 = 0x1b;
const GS: u8 = 0x1d;
const LF: u8 = 0x0a;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
}

/// A print job being built.
#[derive(Debug, Clone)]
pub struct Escpos {
    bytes: Vec<u8>,
}

impl Default for Escpos {
    fn default() -> Self {
        Escpos::new()
    }
}

/// Replaces what the printer's default code page cannot show: accented Latin letters by
/// their base letter, anything else by `?`.
pub fn ascii(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c,
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
            'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'A',
            'ç' => 'c',
            'Ç' => 'C',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'È' | 'É' | 'Ê' | 'Ë' => 'E',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'Ì' | 'Í' | 'Î' | 'Ï' => 'I',
            'ñ' => 'n',
            'Ñ' => 'N',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
            'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => 'O',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'Ù' | 'Ú' | 'Û' | 'Ü' => 'U',
            'ý' | 'ÿ' => 'y',
            'ß' => 's',
            '€' => 'E',
            '\t' => ' ',
            _ => '?',
        })
        .collect()
}

impl Escpos {
    /// Starts with ESC @ (initialize): a clean state whatever the last job left.
    pub fn new() -> Escpos {
        Escpos {
            bytes: vec![ESC, b'@'],
        }
    }

    /// One line of text.
    pub fn line(&mut self, text: &str) -> &mut Self {
        self.bytes.extend(ascii(text).bytes());
        self.bytes.push(LF);
        self
    }

    /// ESC E n: emphasized (bold) on or off.
    pub fn bold(&mut self, on: bool) -> &mut Self {
        self.bytes.extend([ESC, b'E', u8::from(on)]);
        self
    }

    /// ESC a n: justification.
    pub fn align(&mut self, a: Align) -> &mut Self {
        let n = match a {
            Align::Left => 0,
            Align::Center => 1,
        };
        self.bytes.extend([ESC, b'a', n]);
        self
    }

    /// GS ! n: character width and height multipliers (1 to 8 each).
    pub fn size(&mut self, width: u8, height: u8) -> &mut Self {
        let w = width.clamp(1, 8) - 1;
        let h = height.clamp(1, 8) - 1;
        self.bytes.extend([GS, b'!', (w << 4) | h]);
        self
    }

    /// A QR code of `data` (GS ( k, function 165-169: model 2, module size 6, error
    /// correction M, store, print). Data over the command's limit is left out.
    pub fn qr(&mut self, data: &str) -> &mut Self {
        let data = data.as_bytes();
        let Ok(len) = u16::try_from(data.len() + 3) else {
            return self;
        };
        if data.len() > 7_089 {
            return self;
        }
        let [pl, ph] = len.to_le_bytes();
        self.bytes
            .extend([GS, b'(', b'k', 4, 0, 0x31, 0x41, 0x32, 0x00]); // model 2
        self.bytes.extend([GS, b'(', b'k', 3, 0, 0x31, 0x43, 6]); // module size
        self.bytes.extend([GS, b'(', b'k', 3, 0, 0x31, 0x45, 0x31]); // level M
        self.bytes
            .extend([GS, b'(', b'k', pl, ph, 0x31, 0x50, 0x30]); // store
        self.bytes.extend(data);
        self.bytes.extend([GS, b'(', b'k', 3, 0, 0x31, 0x51, 0x30]); // print
        self.bytes.push(LF);
        self
    }

    /// ESC d n then GS V 66 0: feed past the cutter and cut (partially).
    pub fn cut(&mut self) -> &mut Self {
        self.bytes.extend([ESC, b'd', 4, GS, b'V', 66, 0]);
        self
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// A receipt: its text lines, then the signed receipt code as a QR code, then a cut.
pub fn receipt(text: &str, code: Option<&str>) -> Vec<u8> {
    let mut p = Escpos::new();
    let mut lines = text.lines();
    // The restaurant's name, first line, large.
    if let Some(first) = lines.next() {
        p.align(Align::Center)
            .bold(true)
            .size(2, 2)
            .line(first.trim())
            .size(1, 1)
            .bold(false)
            .align(Align::Left);
    }
    for l in lines {
        p.line(l);
    }
    if let Some(code) = code {
        p.align(Align::Center).qr(code).align(Align::Left);
    }
    p.cut();
    p.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_the_documented_bytes() {
        let mut p = Escpos::new();
        p.bold(true).line("Café").bold(false).size(2, 2).cut();
        assert_eq!(
            p.into_bytes(),
            [
                0x1b, b'@', 0x1b, b'E', 1, b'C', b'a', b'f', b'e', 0x0a, 0x1b, b'E', 0, 0x1d, b'!',
                0x11, 0x1b, b'd', 4, 0x1d, b'V', 66, 0
            ]
        );
    }

    #[test]
    fn a_qr_code_carries_its_length_and_data() {
        let mut p = Escpos::new();
        p.qr("MPR1.ABC");
        let b = p.into_bytes();
        let store = [0x1d, b'(', b'k', 11, 0, 0x31, 0x50, 0x30];
        let at = b.windows(store.len()).position(|w| w == store).unwrap();
        assert_eq!(&b[at + store.len()..at + store.len() + 8], b"MPR1.ABC");
        assert!(b.ends_with(&[0x1d, b'(', b'k', 3, 0, 0x31, 0x51, 0x30, 0x0a]));
    }

    #[test]
    fn text_is_reduced_to_ascii() {
        assert_eq!(ascii("Crème brûlée · 4€"), "Creme brulee ? 4E");
    }
}

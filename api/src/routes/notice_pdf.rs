//! The notice 電子請求ログイン情報再発行通知書 as a PDF (`notice.pdf`, `notices.pdf`): one A4
//! page per notice with the HTML notice's words (`notice_text`), the office's address placed
//! for the window of a 長形3号 envelope, and a subset of a Japanese font embedded, so that
//! every printer prints the same page.
//!
//! The font (`REISSUE_NOTICE_FONT`) is read and parsed once, on the first PDF
//! ([`NoticeFontCache`]); one that cannot be read answers that request with an internal error
//! naming the variable and the file, and is tried again on the next.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, TryLockError};

use krilla::color::luma;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla::Document;

use super::notice_text::{self as text, NoticeWords};
use crate::domain::review::NoticeLetter;
use crate::domain::DomainError;

/// PDF points (1/72 inch) per millimetre.
const PT_PER_MM: f32 = 72.0 / 25.4;

/// A4 portrait, in millimetres.
const PAGE_WIDTH_MM: f32 = 210.0;
/// A4 portrait, in millimetres.
const PAGE_HEIGHT_MM: f32 = 297.0;

/// A rectangle on the sheet, in millimetres from its top-left corner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MmRect {
    /// From the sheet's left edge.
    pub left: f32,
    /// From the sheet's top edge.
    pub top: f32,
    /// Across.
    pub width: f32,
    /// Down.
    pub height: f32,
}

impl MmRect {
    /// Its right edge, from the sheet's left edge.
    pub const fn right(&self) -> f32 {
        self.left + self.width
    }

    /// Its bottom edge, from the sheet's top edge.
    pub const fn bottom(&self) -> f32 {
        self.top + self.height
    }

    const fn inset(self, by: f32) -> Self {
        Self {
            left: self.left + by,
            top: self.top + by,
            width: self.width - 2.0 * by,
            height: self.height - 2.0 * by,
        }
    }
}

/// What shows through the window of a 長形3号 window envelope (120×235 mm) when the A4 sheet
/// is folded in three (three 99 mm panels, the first one outward) and put in with the address
/// panel to the window. The JIS-standard window of a 長3 envelope is about 90×45 mm; over
/// the folded sheet it lies about 12–15 mm from the sheet's left edge and about 14 mm from its
/// top, which is the rectangle chosen here. The sheet has some play in the envelope, hence
/// the margin of [`ADDRESS_BLOCK_MM`]; a test print on the federation's own envelopes is the
/// final check.
pub const ENVELOPE_WINDOW_MM: MmRect = MmRect {
    left: 14.0,
    top: 14.0,
    width: 90.0,
    height: 45.0,
};

/// Where the address is printed: 4 mm inside the window on every side, so that a sheet that
/// shifts a little in the envelope still shows all of it, and nothing else of the sheet is
/// printed where the window is.
pub const ADDRESS_BLOCK_MM: MmRect = ENVELOPE_WINDOW_MM.inset(4.0);

/// Where the A4 sheet is folded for the envelope (two folds, three panels of 99 mm).
const FOLDS_MM: [f32; 2] = [PAGE_HEIGHT_MM / 3.0, 2.0 * PAGE_HEIGHT_MM / 3.0];

/// The text column of the body (title, table, instructions): the HTML notice's margins.
const BODY_LEFT_MM: f32 = 25.0;
/// The text column's right edge.
const BODY_RIGHT_MM: f32 = 190.0;

/// A character that must not begin a line (行頭禁則): it stays at the end of the line before,
/// even a little past the margin (ぶら下げ).
const NO_LINE_START: &str = "、。，．,.）」』】〕・ー：；？！ぁぃぅぇぉっゃゅょァィゥェォッャュョ";

/// A character that must not end a line (行末禁則): it begins the next line instead.
const NO_LINE_END: &str = "（「『【〔(";

/// The font of the notices: one file, the face for the text and a monospaced face (when the
/// file has one) for the user ID and temporary password.
pub struct NoticeFont {
    data: Arc<Vec<u8>>,
    text: Face,
    secret: Face,
}

/// One face of the font file: krilla's handle (which embeds it) and its index, to measure
/// the text with `ttf-parser`.
struct Face {
    font: Font,
    index: u32,
}

impl std::fmt::Debug for NoticeFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoticeFont")
            .field("bytes", &self.data.len())
            .field("text_face", &self.text.index)
            .field("secret_face", &self.secret.index)
            .finish()
    }
}

impl NoticeFont {
    /// Reads and parses the font at `path`. Of a collection (`.ttc`) the face whose family
    /// name ends in `JP` (Noto Sans CJK JP: Japanese glyph forms) is used, and its `Mono`
    /// sibling for the secrets; of a single font, that font.
    pub fn load(path: &Path) -> Result<Self, String> {
        let data =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let (text_index, secret_index) = choose_faces(&data)
            .map_err(|reason| format!("cannot use {}: {reason}", path.display()))?;
        let data = Arc::new(data);
        let face = |index: u32| {
            Font::new(data.clone().into(), index)
                .map(|font| Face { font, index })
                .ok_or_else(|| format!("cannot use {}: face {index} does not load", path.display()))
        };
        let text = face(text_index)?;
        let secret = if secret_index == text_index {
            Face {
                font: text.font.clone(),
                index: text_index,
            }
        } else {
            face(secret_index)?
        };
        Ok(Self { data, text, secret })
    }
}

/// The faces to use: the Japanese face of a collection (and its monospaced sibling), or
/// face 0; refused when it has no Japanese glyphs.
fn choose_faces(data: &[u8]) -> Result<(u32, u32), String> {
    let count = ttf_parser::fonts_in_collection(data).unwrap_or(1);
    let mut text = None;
    let mut mono = None;
    for index in 0..count {
        let Ok(face) = ttf_parser::Face::parse(data, index) else {
            continue;
        };
        let family = family_name(&face);
        if family.ends_with("JP") {
            if family.contains("Mono") {
                mono.get_or_insert(index);
            } else {
                text.get_or_insert(index);
            }
        }
    }
    let text = text.unwrap_or(0);
    let face = ttf_parser::Face::parse(data, text)
        .map_err(|e| format!("not a TrueType/OpenType font or collection ({e})"))?;
    let missing: String = text::TITLE
        .chars()
        .filter(|c| face.glyph_index(*c).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "face {text} ({}) has no glyph for {missing:?}: not a Japanese font",
            family_name(&face)
        ));
    }
    Ok((text, mono.unwrap_or(text)))
}

/// The face's family name (name ID 1), empty when it has none in Unicode.
fn family_name(face: &ttf_parser::Face<'_>) -> String {
    face.names()
        .into_iter()
        .filter(|name| name.name_id == ttf_parser::name_id::FAMILY)
        .find_map(|name| name.to_string())
        .unwrap_or_default()
}

/// The notices' font, read from its file on the first PDF and kept for the process's life.
#[derive(Debug)]
pub struct NoticeFontCache {
    path: PathBuf,
    loaded: Mutex<Option<Arc<NoticeFont>>>,
}

impl NoticeFontCache {
    /// Nothing is read yet: the first [`Self::get`] reads `path`.
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            loaded: Mutex::new(None),
        }
    }

    /// The font, read (off the async threads) on first use. A file that cannot be used is
    /// an internal error that names `REISSUE_NOTICE_FONT` and the file (logged with the
    /// request id); it is tried again on the next request.
    pub async fn get(self: &Arc<Self>) -> Result<Arc<NoticeFont>, DomainError> {
        // Never wait for the lock here, on an async thread: while another request reads the
        // file, this one waits for it on a blocking thread below.
        let ready = match self.loaded.try_lock() {
            Ok(loaded) => loaded.clone(),
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner().clone(),
            Err(TryLockError::WouldBlock) => None,
        };
        if let Some(font) = ready {
            return Ok(font);
        }
        let cache = self.clone();
        actix_web::web::block(move || {
            // Held while reading, so that requests arriving together read the file once.
            let mut loaded = cache.loaded.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(font) = loaded.as_ref() {
                return Ok(font.clone());
            }
            let font = Arc::new(NoticeFont::load(&cache.path)?);
            tracing::info!(font = ?font, path = %cache.path.display(), "notice font loaded");
            *loaded = Some(font.clone());
            Ok(font)
        })
        .await
        .map_err(|e| DomainError::Internal(format!("reading the notice font: {e}")))?
        .map_err(|reason: String| DomainError::Internal(format!("REISSUE_NOTICE_FONT: {reason}")))
    }
}

/// The answer carrying a PDF: shown in the browser (`inline`, saved as `filename`), never
/// cached, since it carries a password.
pub fn response(filename: &str, pdf: Vec<u8>) -> actix_web::HttpResponse {
    let filename: String = filename
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        .collect();
    actix_web::HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            "Content-Disposition",
            format!("inline; filename=\"{filename}\""),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .body(pdf)
}

/// The PDF of `letters`, one A4 page each, rendered off the async threads (50 notices take
/// about a quarter of a second in a release build). No letters make one page that says so.
pub async fn render(
    font: Arc<NoticeFont>,
    letters: Vec<NoticeLetter>,
) -> Result<Vec<u8>, DomainError> {
    actix_web::web::block(move || render_now(&font, &letters))
        .await
        .map_err(|e| DomainError::Internal(format!("rendering the notice PDF: {e}")))?
        .map_err(|reason| DomainError::Internal(format!("rendering the notice PDF: {reason}")))
}

/// [`render`] on the calling thread.
pub fn render_now(font: &NoticeFont, letters: &[NoticeLetter]) -> Result<Vec<u8>, String> {
    let faces = Faces::new(font)?;
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(text::TITLE.to_owned())
            .language("ja".to_owned())
            .creator("電子請求受付システム".to_owned()),
    );
    let settings = PageSettings::from_wh(PAGE_WIDTH_MM * PT_PER_MM, PAGE_HEIGHT_MM * PT_PER_MM)
        .ok_or("the A4 page size is refused")?;
    if letters.is_empty() {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        let mut pen = Pen::new(&mut surface, &faces);
        pen.text(Style::Text, 12.0, BODY_LEFT_MM, 40.0, text::NONE_WAITING);
    }
    for letter in letters {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        sheet(
            &mut Pen::new(&mut surface, &faces),
            &NoticeWords::of(letter),
        );
    }
    document.finish().map_err(|e| e.to_string())
}

/// One notice, laid out like the HTML notice.
fn sheet(pen: &mut Pen<'_, '_, '_>, words: &NoticeWords) {
    pen.fold_marks();

    // Top right: date of issue and reference number.
    pen.text_right(Style::Text, 10.5, BODY_RIGHT_MM, 20.0, &words.issued_on);
    let reference = format!("{} {}", text::REFERENCE_LABEL, words.reference_number);
    pen.text_right(Style::Text, 10.5, BODY_RIGHT_MM, 26.0, &reference);

    pen.address(words);

    pen.text_centred(Style::Text, 16.0, PAGE_WIDTH_MM / 2.0, 80.0, text::TITLE);
    pen.text(Style::Text, 10.5, BODY_LEFT_MM, 92.0, text::INTRODUCTION);

    // The table: labels on grey, the user ID and password in the monospaced face.
    let rows = [
        (text::OFFICE_NUMBER_LABEL, &words.office_number, Style::Text),
        (text::OFFICE_NAME_LABEL, &words.office_name, Style::Text),
        (text::USER_ID_LABEL, &words.user_id, Style::Secret),
        (
            text::PASSWORD_LABEL,
            &words.temporary_password,
            Style::Secret,
        ),
        (text::EXPIRY_LABEL, &words.expires_on, Style::Text),
    ];
    let label_width = 45.0;
    let row_height = 11.0;
    let mut top = 99.0;
    for (label, value, style) in rows {
        let label_cell = MmRect {
            left: BODY_LEFT_MM,
            top,
            width: label_width,
            height: row_height,
        };
        let value_cell = MmRect {
            left: BODY_LEFT_MM + label_width,
            top,
            width: BODY_RIGHT_MM - BODY_LEFT_MM - label_width,
            height: row_height,
        };
        pen.cell(label_cell, true);
        pen.cell(value_cell, false);
        pen.text_in_cell(Style::Text, 10.5, label_cell, label);
        let preferred = match style {
            Style::Text => 11.0,
            Style::Secret => 14.0,
        };
        pen.text_in_cell(style, preferred, value_cell, value);
        top += row_height;
    }

    // The instructions, numbered, wrapped to the column.
    let size = 10.0;
    let line = size * 1.7 / PT_PER_MM;
    let mut baseline = top + 12.0;
    for (number, item) in text::INSTRUCTIONS.iter().enumerate() {
        pen.text(
            Style::Text,
            size,
            BODY_LEFT_MM,
            baseline,
            &format!("{}.", number + 1),
        );
        let indent = BODY_LEFT_MM + 6.0;
        for part in pen.wrap(Style::Text, size, BODY_RIGHT_MM - indent, item) {
            pen.text(Style::Text, size, indent, baseline, &part);
            baseline += line;
        }
    }

    // The issuer, bottom right.
    let issuer = (baseline + 12.0).max(250.0);
    for (n, line) in words.issuer.iter().enumerate() {
        pen.text_right(
            Style::Text,
            11.0,
            BODY_RIGHT_MM,
            issuer + 6.5 * n as f32,
            line,
        );
    }
}

/// Which face a text is set in.
#[derive(Debug, Clone, Copy)]
enum Style {
    /// The proportional Japanese face.
    Text,
    /// The monospaced face (user ID, temporary password).
    Secret,
}

/// The font's faces, parsed to measure text.
struct Faces<'f> {
    font: &'f NoticeFont,
    text: ttf_parser::Face<'f>,
    secret: ttf_parser::Face<'f>,
}

impl<'f> Faces<'f> {
    fn new(font: &'f NoticeFont) -> Result<Self, String> {
        let parse = |index| {
            ttf_parser::Face::parse(&font.data, index)
                .map_err(|e| format!("face {index} does not parse: {e}"))
        };
        Ok(Self {
            font,
            text: parse(font.text.index)?,
            secret: parse(font.secret.index)?,
        })
    }

    fn parsed(&self, style: Style) -> &ttf_parser::Face<'f> {
        match style {
            Style::Text => &self.text,
            Style::Secret => &self.secret,
        }
    }

    fn krilla(&self, style: Style) -> Font {
        match style {
            Style::Text => self.font.text.font.clone(),
            Style::Secret => self.font.secret.font.clone(),
        }
    }

    /// The advance width of `text` at `size` points, in millimetres (without kerning).
    fn width_mm(&self, style: Style, size: f32, text: &str) -> f32 {
        let face = self.parsed(style);
        let units: f32 = text
            .chars()
            .map(|c| {
                face.glyph_index(c)
                    .and_then(|glyph| face.glyph_hor_advance(glyph))
                    .map_or(f32::from(face.units_per_em()) / 2.0, f32::from)
            })
            .sum();
        units / f32::from(face.units_per_em()) * size / PT_PER_MM
    }
}

/// Draws on one page, in millimetres from its top-left corner.
struct Pen<'a, 's, 'f> {
    surface: &'a mut Surface<'s>,
    faces: &'a Faces<'f>,
}

impl<'a, 's, 'f> Pen<'a, 's, 'f> {
    fn new(surface: &'a mut Surface<'s>, faces: &'a Faces<'f>) -> Self {
        Self { surface, faces }
    }

    /// `text` with its baseline starting at (`left`, `baseline`).
    fn text(&mut self, style: Style, size: f32, left: f32, baseline: f32, text: &str) {
        self.surface.set_stroke(None);
        self.surface.set_fill(Some(Fill::default()));
        self.surface.draw_text(
            Point::from_xy(left * PT_PER_MM, baseline * PT_PER_MM),
            self.faces.krilla(style),
            size,
            text,
            false,
            TextDirection::LeftToRight,
        );
    }

    fn text_right(&mut self, style: Style, size: f32, right: f32, baseline: f32, text: &str) {
        let width = self.faces.width_mm(style, size, text);
        self.text(style, size, right - width, baseline, text);
    }

    fn text_centred(&mut self, style: Style, size: f32, centre: f32, baseline: f32, text: &str) {
        let width = self.faces.width_mm(style, size, text);
        self.text(style, size, centre - width / 2.0, baseline, text);
    }

    /// One line in a table cell, 4 mm from its left, centred in its height; smaller than
    /// `preferred` (down to 7 pt) when it would not fit.
    fn text_in_cell(&mut self, style: Style, preferred: f32, cell: MmRect, text: &str) {
        let room = cell.width - 8.0;
        let mut size = preferred;
        while size > 7.0 && self.faces.width_mm(style, size, text) > room {
            size -= 0.5;
        }
        // Japanese glyphs sit on the em box, whose middle is about 0.38 em above the baseline.
        let baseline = cell.top + cell.height / 2.0 + 0.38 * size / PT_PER_MM;
        self.text(style, size, cell.left + 4.0, baseline, text);
    }

    /// A table cell's border (and grey ground for a label).
    fn cell(&mut self, cell: MmRect, label: bool) {
        let Some(rect) = Rect::from_xywh(
            cell.left * PT_PER_MM,
            cell.top * PT_PER_MM,
            cell.width * PT_PER_MM,
            cell.height * PT_PER_MM,
        ) else {
            return;
        };
        let mut builder = PathBuilder::new();
        builder.push_rect(rect);
        let Some(path) = builder.finish() else {
            return;
        };
        self.surface.set_fill(label.then(|| Fill {
            paint: luma::Color::new(238).into(),
            ..Fill::default()
        }));
        self.surface.set_stroke(Some(Stroke {
            width: 0.75,
            ..Stroke::default()
        }));
        self.surface.draw_path(&path);
    }

    /// Short marks at the left edge where the sheet is folded for the envelope.
    fn fold_marks(&mut self) {
        let mut builder = PathBuilder::new();
        for y in FOLDS_MM {
            builder.move_to(5.0 * PT_PER_MM, y * PT_PER_MM);
            builder.line_to(10.0 * PT_PER_MM, y * PT_PER_MM);
        }
        let Some(path) = builder.finish() else {
            return;
        };
        self.surface.set_fill(None);
        self.surface.set_stroke(Some(Stroke {
            paint: luma::Color::new(128).into(),
            width: 0.5,
            ..Stroke::default()
        }));
        self.surface.draw_path(&path);
    }

    /// The address block in [`ADDRESS_BLOCK_MM`]: 〒 postal code, the address, the office's
    /// name with 御中; wrapped to the block, and set smaller when it would not fit.
    fn address(&mut self, words: &NoticeWords) {
        let block = ADDRESS_BLOCK_MM;
        let addressee = format!("{}　{}", words.office_name, text::ADDRESSEE_HONORIFIC);
        let postal = format!("〒{}", words.postal_code);
        let mut size: f32 = 11.0;
        loop {
            let line = size * 1.5 / PT_PER_MM;
            let address = self.wrap(Style::Text, size, block.width, &words.address);
            let name = self.wrap(Style::Text, size + 1.0, block.width, &addressee);
            let height = line * (1 + address.len() + name.len()) as f32 + 0.5 * line;
            if height <= block.height || size <= 7.0 {
                // The first baseline one ascent below the block's top.
                let mut baseline = block.top + 0.88 * size / PT_PER_MM;
                self.text(Style::Text, size, block.left, baseline, &postal);
                for part in &address {
                    baseline += line;
                    self.text(Style::Text, size, block.left, baseline, part);
                }
                baseline += 0.5 * line;
                for part in &name {
                    baseline += line;
                    self.text(Style::Text, size + 1.0, block.left, baseline, part);
                }
                return;
            }
            size -= 0.5;
        }
    }

    /// `text` broken into lines of at most `width` millimetres: between any two Japanese
    /// characters, never inside a run of ASCII letters and digits, never before a character
    /// of [`NO_LINE_START`] (which hangs past the margin instead) nor after one of
    /// [`NO_LINE_END`].
    fn wrap(&self, style: Style, size: f32, width: f32, text: &str) -> Vec<String> {
        let mut lines = Vec::new();
        let mut current = String::new();
        for token in tokens(text) {
            if current.is_empty() && !lines.is_empty() && token.trim().is_empty() {
                // A space where the line broke is not carried to the next line.
                continue;
            }
            let hangs = token.chars().all(|c| NO_LINE_START.contains(c));
            let candidate = format!("{current}{token}");
            if current.is_empty() || hangs || self.faces.width_mm(style, size, &candidate) <= width
            {
                current = candidate;
            } else {
                let mut next = String::new();
                while let Some(last) = current.pop() {
                    if NO_LINE_END.contains(last) && !current.is_empty() {
                        next.insert(0, last);
                    } else {
                        current.push(last);
                        break;
                    }
                }
                lines.push(std::mem::take(&mut current));
                current = next + token;
            }
        }
        if !current.is_empty() || lines.is_empty() {
            lines.push(current);
        }
        lines
    }
}

/// The units a line may break between: a run of ASCII letters, digits and `-`, or one other
/// character.
fn tokens(text: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((index, c)) = chars.next() {
        let word = |c: char| c.is_ascii_alphanumeric() || c == '-';
        if word(c) {
            while chars.peek().is_some_and(|(_, next)| word(*next)) {
                chars.next();
            }
        }
        let end = chars.peek().map_or(text.len(), |(next, _)| *next);
        tokens.push(&text[index..end]);
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_block_is_inside_the_window_and_the_window_on_the_top_panel() {
        let (window, block) = (ENVELOPE_WINDOW_MM, ADDRESS_BLOCK_MM);
        assert!(block.left > window.left && block.right() < window.right());
        assert!(block.top > window.top && block.bottom() < window.bottom());
        // The window shows the top panel only: the sheet is folded below it.
        assert!(window.bottom() < FOLDS_MM[0]);
        assert!(window.right() < PAGE_WIDTH_MM);
    }

    #[test]
    fn lines_break_between_japanese_characters_but_not_inside_ascii_words() {
        assert_eq!(
            tokens("丸の内9-9-9 A。"),
            ["丸", "の", "内", "9-9-9", " ", "A", "。"]
        );
    }

    fn letter(number: usize) -> NoticeLetter {
        let now = time::OffsetDateTime::now_utc();
        NoticeLetter {
            office_number: format!("13{number:08}"),
            ledger_entry: Some(reissue_shared::admin::LedgerEntryView {
                office_number: format!("13{number:08}"),
                office_name: format!(
                    "社会福祉法人 さくら会 特別養護老人ホーム さくらの里 第{number}事業所"
                ),
                kind: "介護".to_owned(),
                postal_code: "100-0005".to_owned(),
                address: "東京都千代田区丸の内9-9-9 丸の内ケアビル3階 （サンプル）".to_owned(),
                phone: "03-0000-0000".to_owned(),
            }),
            user_id: format!("KJ13{number:08}"),
            temporary_password: "Ab3dEf7hJk9m".to_owned(),
            expires_at: now + time::Duration::days(30),
            issued_at: now,
            prefecture: reissue_shared::PrefectureCode::TOKYO,
            reference_number: "ABCD-EFGH".to_owned(),
            federation_name: "東京都国民健康保険団体連合会".to_owned(),
            federation_address: "〒102-0072 東京都千代田区飯田橋3-5-1".to_owned(),
            federation_phone: "03-6238-0011".to_owned(),
            helpdesk_phone: "0570-059-402".to_owned(),
        }
    }

    fn default_font() -> NoticeFont {
        NoticeFont::load(Path::new(crate::config::DEFAULT_NOTICE_FONT))
            .expect("fonts-noto-cjk (tools.env) is installed")
    }

    #[test]
    fn the_japanese_face_of_noto_sans_cjk_is_chosen() {
        let font = default_font();
        let faces = Faces::new(&font).unwrap();
        assert_eq!(family_name(&faces.text), "Noto Sans CJK JP");
        assert_eq!(family_name(&faces.secret), "Noto Sans Mono CJK JP");
    }

    #[test]
    fn long_names_and_addresses_wrap_inside_the_address_block() {
        let font = default_font();
        let faces = Faces::new(&font).unwrap();
        let mut document = Document::new();
        let mut page = document.start_page();
        let mut surface = page.surface();
        let pen = Pen::new(&mut surface, &faces);
        let words = NoticeWords::of(&letter(1));
        let lines = pen.wrap(
            Style::Text,
            11.0,
            ADDRESS_BLOCK_MM.width,
            &words.office_name,
        );
        assert!(lines.len() > 1, "{lines:?}");
        for line in &lines {
            assert!(faces.width_mm(Style::Text, 11.0, line) <= ADDRESS_BLOCK_MM.width);
        }
        assert_eq!(lines.concat(), words.office_name);
    }

    /// Not a check: figures for the README (size of 1 and 50 notices, time to render 50).
    /// `cargo test --release -p reissue-api --lib notice_pdf::tests::figures -- --ignored --nocapture`
    /// (`NOTICE_PDF_OUT=file.pdf` keeps the one-notice PDF, to look at).
    #[test]
    #[ignore = "a measurement, run by hand in release mode"]
    fn figures() {
        let started = std::time::Instant::now();
        let font = default_font();
        println!("font loaded in {:?}", started.elapsed());
        let one = render_now(&font, &[letter(1)]).unwrap();
        println!("1 notice: {} bytes", one.len());
        if let Ok(path) = std::env::var("NOTICE_PDF_OUT") {
            std::fs::write(path, &one).unwrap();
        }
        let letters: Vec<NoticeLetter> = (1..=50).map(letter).collect();
        for _ in 0..3 {
            let started = std::time::Instant::now();
            let fifty = render_now(&font, &letters).unwrap();
            println!(
                "50 notices: {} bytes in {:?}",
                fifty.len(),
                started.elapsed()
            );
        }
    }

    #[test]
    fn an_opening_bracket_begins_the_next_line_and_a_comma_hangs() {
        let font = default_font();
        let faces = Faces::new(&font).unwrap();
        let mut document = Document::new();
        let mut page = document.start_page();
        let mut surface = page.surface();
        let pen = Pen::new(&mut surface, &faces);
        let em = faces.width_mm(Style::Text, 10.0, "あ");
        let lines = pen.wrap(Style::Text, 10.0, 3.5 * em, "あいう（え）、お");
        assert_eq!(lines, ["あいう", "（え）、", "お"]);
    }

    #[test]
    fn a_missing_font_is_an_error_naming_the_file() {
        let error = NoticeFont::load(Path::new("/nonexistent/font.ttc")).unwrap_err();
        assert!(error.contains("/nonexistent/font.ttc"), "{error}");
    }
}

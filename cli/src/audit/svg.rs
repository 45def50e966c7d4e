//! Charts drawn as inline SVG by our code: no script, no external asset,
//! readable offline and in any browser or mail client. Labels are escaped.

use super::html::escape;

/// Horizontal bars, one per `(label, value)`.
pub fn bar_chart(title: &str, items: &[(String, u64)]) -> String {
    const ROW: u64 = 24;
    const LABEL_W: u64 = 160;
    const BAR_W: u64 = 360;
    let height = ROW * items.len().max(1) as u64 + 8;
    let max = items.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let mut out = format!(
        "<svg role=\"img\" width=\"{w}\" height=\"{height}\" \
         viewBox=\"0 0 {w} {height}\"><title>{t}</title>",
        w = LABEL_W + BAR_W + 60,
        t = escape(title)
    );
    if items.is_empty() {
        out.push_str("<text x=\"0\" y=\"18\" class=\"muted\">none</text>");
    }
    for (i, (label, value)) in items.iter().enumerate() {
        let y = i as u64 * ROW + 4;
        let w = value * BAR_W / max;
        out.push_str(&format!(
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{l}</text>\
             <rect x=\"{LABEL_W}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" class=\"bar {c}\"/>\
             <text x=\"{vx}\" y=\"{ty}\">{value}</text>",
            lx = LABEL_W - 8,
            ty = y + 14,
            l = escape(label),
            h = ROW - 6,
            c = escape(&css_class(label)),
            vx = LABEL_W + w + 6,
        ));
    }
    out.push_str("</svg>");
    out
}

/// Vertical bars over time, one per `(day, value)`, in the given order.
pub fn day_chart(title: &str, items: &[(String, u64)]) -> String {
    const H: u64 = 140;
    const COL: u64 = 22;
    let width = (COL * items.len().max(1) as u64 + 40).max(200);
    let max = items.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let mut out = format!(
        "<svg role=\"img\" width=\"{width}\" height=\"{h}\" \
         viewBox=\"0 0 {width} {h}\"><title>{t}</title>\
         <line x1=\"30\" y1=\"{H}\" x2=\"{width}\" y2=\"{H}\" class=\"axis\"/>",
        h = H + 80,
        t = escape(title)
    );
    if items.is_empty() {
        out.push_str("<text x=\"40\" y=\"70\" class=\"muted\">none</text>");
    }
    for (i, (day, value)) in items.iter().enumerate() {
        let x = 34 + i as u64 * COL;
        let h = value * (H - 10) / max;
        out.push_str(&format!(
            "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" class=\"bar\">\
             <title>{d}: {value}</title></rect>\
             <text x=\"{vx}\" y=\"{vy}\" text-anchor=\"middle\" class=\"day\">{value}</text>\
             <text x=\"{tx}\" y=\"{ty}\" class=\"day\" transform=\"rotate(60 {tx} {ty})\">{d}</text>",
            y = H - h,
            w = COL - 6,
            vx = x + (COL - 6) / 2,
            vy = H - h - 3,
            d = escape(day),
            tx = x + 2,
            ty = H + 10,
        ));
    }
    out.push_str("</svg>");
    out
}

/// Severity names get their colour; anything else the default.
fn css_class(label: &str) -> String {
    match label {
        "critical" | "high" | "medium" | "low" | "info" => format!("sev-{label}"),
        _ => String::new(),
    }
}

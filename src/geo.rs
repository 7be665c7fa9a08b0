//! Prefectures by connpass's romanised codes (`tokyo`, `osaka`, …) with display names.

/// (code, Japanese name, English name), in JIS order.
pub const PREFECTURES: [(&str, &str, &str); 47] = [
    ("hokkaido", "北海道", "Hokkaido"),
    ("aomori", "青森県", "Aomori"),
    ("iwate", "岩手県", "Iwate"),
    ("miyagi", "宮城県", "Miyagi"),
    ("akita", "秋田県", "Akita"),
    ("yamagata", "山形県", "Yamagata"),
    ("fukushima", "福島県", "Fukushima"),
    ("ibaraki", "茨城県", "Ibaraki"),
    ("tochigi", "栃木県", "Tochigi"),
    ("gunma", "群馬県", "Gunma"),
    ("saitama", "埼玉県", "Saitama"),
    ("chiba", "千葉県", "Chiba"),
    ("tokyo", "東京都", "Tokyo"),
    ("kanagawa", "神奈川県", "Kanagawa"),
    ("niigata", "新潟県", "Niigata"),
    ("toyama", "富山県", "Toyama"),
    ("ishikawa", "石川県", "Ishikawa"),
    ("fukui", "福井県", "Fukui"),
    ("yamanashi", "山梨県", "Yamanashi"),
    ("nagano", "長野県", "Nagano"),
    ("gifu", "岐阜県", "Gifu"),
    ("shizuoka", "静岡県", "Shizuoka"),
    ("aichi", "愛知県", "Aichi"),
    ("mie", "三重県", "Mie"),
    ("shiga", "滋賀県", "Shiga"),
    ("kyoto", "京都府", "Kyoto"),
    ("osaka", "大阪府", "Osaka"),
    ("hyogo", "兵庫県", "Hyogo"),
    ("nara", "奈良県", "Nara"),
    ("wakayama", "和歌山県", "Wakayama"),
    ("tottori", "鳥取県", "Tottori"),
    ("shimane", "島根県", "Shimane"),
    ("okayama", "岡山県", "Okayama"),
    ("hiroshima", "広島県", "Hiroshima"),
    ("yamaguchi", "山口県", "Yamaguchi"),
    ("tokushima", "徳島県", "Tokushima"),
    ("kagawa", "香川県", "Kagawa"),
    ("ehime", "愛媛県", "Ehime"),
    ("kochi", "高知県", "Kochi"),
    ("fukuoka", "福岡県", "Fukuoka"),
    ("saga", "佐賀県", "Saga"),
    ("nagasaki", "長崎県", "Nagasaki"),
    ("kumamoto", "熊本県", "Kumamoto"),
    ("oita", "大分県", "Oita"),
    ("miyazaki", "宮崎県", "Miyazaki"),
    ("kagoshima", "鹿児島県", "Kagoshima"),
    ("okinawa", "沖縄県", "Okinawa"),
];

/// Display name of a prefecture code in the given language; `None` for an unknown code.
pub fn prefecture_name(code: &str, lang: crate::time::Lang) -> Option<&'static str> {
    PREFECTURES.iter().find(|(c, _, _)| *c == code).map(|(_, ja, en)| match lang {
        crate::time::Lang::Ja => *ja,
        crate::time::Lang::En => *en,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Lang;

    #[test]
    fn codes_are_unique_and_resolve_in_both_languages() {
        let mut codes: Vec<_> = PREFECTURES.iter().map(|p| p.0).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), 47);
        assert_eq!(prefecture_name("tokyo", Lang::Ja), Some("東京都"));
        assert_eq!(prefecture_name("osaka", Lang::En), Some("Osaka"));
        assert_eq!(prefecture_name("atlantis", Lang::En), None);
    }
}

namespace Scalelite.Tests.Core.Recordings;

/// <summary>
/// Names that must never become part of a recording's path, shared by the tests of every place a name enters: the
/// rule itself, archive extraction, metadata.xml, and the playback routes. Tests take them by label, so test names
/// and result files stay readable (and free of NUL).
/// </summary>
public static class UnsafeNames
{
    public static readonly IReadOnlyDictionary<string, string> All = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["empty"] = string.Empty,
        ["dot"] = ".",
        ["dot-dot"] = "..",
        ["three-dots"] = "...",
        ["leading-dot"] = ".hidden",
        ["dot-dot-trailing-slash"] = "../x",
        ["slash"] = "a/b",
        ["backslash"] = @"a\b",
        ["dot-dot-backslash"] = @"..\x",
        ["nul"] = "a\0b",
        ["over-long"] = new string('a', 256),
        ["percent-escaped-slash"] = "a%2Fb",
        ["percent-escaped-dots"] = "%2e%2e",
        ["space"] = "a b",
        ["colon"] = "a:b",
        ["zero-width-space"] = "a\u200Bb",
        ["division-slash-U+2215"] = "a\u2215b",
        ["fullwidth-solidus-U+FF0F"] = "a\uFF0Fb",
        ["fraction-slash-U+2044"] = "a\u2044b",
        ["big-solidus-U+29F8"] = "a\u29F8b",
        ["set-minus-U+2216"] = "a\u2216b",
        ["fullwidth-reverse-solidus-U+FF3C"] = "a\uFF3Cb",
        ["small-reverse-solidus-U+FE68"] = "a\uFE68b",
        ["fullwidth-dots-U+FF0E"] = "\uFF0E\uFF0E",
        ["one-dot-leader-U+2024"] = "\u2024\u2024",
        ["two-dot-leader-U+2025"] = "\u2025",
        ["small-full-stop-U+FE52"] = "\uFE52\uFE52",
        ["ideographic-full-stop-U+3002"] = "\u3002\u3002",
        ["halfwidth-ideographic-full-stop-U+FF61"] = "\uFF61\uFF61",
        ["combining-dot-U+0307"] = "a\u0307",
    };

    /// <summary>Every case.</summary>
    public static TheoryData<string> Labels => [.. All.Keys];

    /// <summary>The cases that can stand as one segment of a tar entry's name or one XML text value (no separator, no NUL, not empty).</summary>
    public static TheoryData<string> SegmentLabels => [.. All.Where(c => c.Value.Length > 0 && !c.Value.Contains('/') && !c.Value.Contains('\0')).Select(c => c.Key)];
}

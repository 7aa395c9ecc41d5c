using System.Globalization;
using System.Security;
using System.Text;
using Realtime.Bench.Scenarios;

namespace Realtime.Bench.Report;

/// <summary>
/// The second plot: the servers' resident memory over the churn run (a line per system, the silo kill marked), the
/// other clients' p99 latency alone and while one client floods, and, at scale, memory per idle connection and the time
/// a broadcast takes to reach every connection.
/// </summary>
public static class ReliabilityPlot
{
    private const int Width = 1180;
    private const int PanelHeight = 260;
    private static readonly string[] Colors = ["#1f77b4", "#17becf", "#2ca02c", "#9467bd", "#d62728", "#ff7f0e", "#8c564b"];

    public static string Write(IReadOnlyList<string> systems, IReadOnlyList<ScenarioResult> results)
    {
        var svg = new StringBuilder();
        var height = 60 + (2 * (PanelHeight + 70)) + 40;
        svg.AppendLine(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" font-family=\"sans-serif\" font-size=\"12\">"));
        svg.AppendLine(Invariant($"<rect width=\"{Width}\" height=\"{height}\" fill=\"white\"/>"));
        Churn(svg, systems, results, x: 70, y: 50, width: Width - 110);

        var y = 50 + PanelHeight + 70;
        var third = (Width - 140) / 3;
        Bars(svg, "others' p99 latency (ms), alone / one client flooding", systems, results, 70, y, third - 40,
            r => r.Flood is { } f ? [f.Alone.P99Micros / 1000.0, f.Flooded.P99Micros / 1000.0] : null, ["alone", "flooding"]);
        Bars(svg, "KiB per idle connection (scale)", systems, results, 70 + third + 30, y, third - 40,
            r => r.Scale is { } s ? [s.EdgeBytesPerConnection / 1024] : null, null);
        Bars(svg, "broadcast reach time, ms (scale)", systems, results, 70 + (2 * third) + 60, y, third - 40,
            r => r.Scale?.Median is { } b ? [b.MaxMicros / 1000.0] : null, null);

        // The legend.
        for (var i = 0; i < systems.Count; i++)
        {
            var lx = 70 + (i * 190);
            var ly = height - 15;
            svg.AppendLine(Invariant($"<rect x=\"{lx}\" y=\"{ly - 10}\" width=\"12\" height=\"12\" fill=\"{Colors[i % Colors.Length]}\"/>"));
            svg.AppendLine(Invariant($"<text x=\"{lx + 18}\" y=\"{ly}\">{SecurityElement.Escape(systems[i])}</text>"));
        }

        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static void Churn(StringBuilder svg, IReadOnlyList<string> systems, IReadOnlyList<ScenarioResult> results, int x, int y, int width)
    {
        svg.AppendLine(Invariant($"<text x=\"{x + (width / 2)}\" y=\"{y - 25}\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">churn: resident memory of all server processes (MiB) over the run</text>"));
        var runs = systems.Select(s => results.FirstOrDefault(r => r.System == s && r.Churn is not null)?.Churn).ToList();
        var samples = runs.Where(r => r is not null).SelectMany(r => r!.Memory).ToList();
        var bottom = y + PanelHeight;
        svg.AppendLine(Invariant($"<line x1=\"{x}\" y1=\"{bottom}\" x2=\"{x + width}\" y2=\"{bottom}\" stroke=\"black\"/><line x1=\"{x}\" y1=\"{y}\" x2=\"{x}\" y2=\"{bottom}\" stroke=\"black\"/>"));
        if (samples.Count == 0)
        {
            return;
        }

        var maxSeconds = Math.Max(1, samples.Max(m => m.Seconds));
        var maxMiB = Nice(samples.Max(m => m.ServerBytes) / 1048576.0);
        for (var t = 0; t <= 4; t++)
        {
            var value = maxMiB * t / 4;
            var ty = bottom - (PanelHeight * t / 4.0);
            svg.AppendLine(Invariant($"<line x1=\"{x}\" y1=\"{ty:0.#}\" x2=\"{x + width}\" y2=\"{ty:0.#}\" stroke=\"#ddd\"/><text x=\"{x - 6}\" y=\"{ty + 4:0.#}\" text-anchor=\"end\">{value:0}</text>"));
            var seconds = maxSeconds * t / 4;
            svg.AppendLine(Invariant($"<text x=\"{x + (width * t / 4.0):0.#}\" y=\"{bottom + 16}\" text-anchor=\"middle\">{seconds:0} s</text>"));
        }

        for (var i = 0; i < systems.Count; i++)
        {
            if (runs[i] is not { } run || run.Memory.Count == 0)
            {
                continue;
            }

            var points = string.Join(' ', run.Memory.Select(m => Invariant($"{x + (width * m.Seconds / maxSeconds):0.#},{bottom - (PanelHeight * (m.ServerBytes / 1048576.0) / maxMiB):0.#}")));
            svg.AppendLine(Invariant($"<polyline fill=\"none\" stroke=\"{Colors[i % Colors.Length]}\" stroke-width=\"2\" points=\"{points}\"/>"));
            if (run.KilledAtSeconds is { } killed)
            {
                var kx = x + (width * killed / maxSeconds);
                svg.AppendLine(Invariant($"<line x1=\"{kx:0.#}\" y1=\"{y}\" x2=\"{kx:0.#}\" y2=\"{bottom}\" stroke=\"{Colors[i % Colors.Length]}\" stroke-dasharray=\"4 3\"/><text x=\"{kx + 4:0.#}\" y=\"{y + 12 + (14 * i)}\" fill=\"{Colors[i % Colors.Length]}\">{SecurityElement.Escape(run.KilledSilo ?? "")} killed</text>"));
            }
        }
    }

    private static void Bars(StringBuilder svg, string title, IReadOnlyList<string> systems, IReadOnlyList<ScenarioResult> results, int x, int y, int width, Func<ScenarioResult, double[]?> values, string[]? series)
    {
        svg.AppendLine(Invariant($"<text x=\"{x + (width / 2)}\" y=\"{y - 25}\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">{SecurityElement.Escape(title)}</text>"));
        var bottom = y + PanelHeight;
        svg.AppendLine(Invariant($"<line x1=\"{x}\" y1=\"{bottom}\" x2=\"{x + width}\" y2=\"{bottom}\" stroke=\"black\"/><line x1=\"{x}\" y1=\"{y}\" x2=\"{x}\" y2=\"{bottom}\" stroke=\"black\"/>"));
        var rows = systems.Select(s => (System: s, Values: results.Where(r => r.System == s).Select(values).FirstOrDefault(v => v is not null))).Where(r => r.Values is not null).ToList();
        if (rows.Count == 0)
        {
            return;
        }

        var max = Nice(rows.SelectMany(r => r.Values!).DefaultIfEmpty(1).Max());
        for (var t = 0; t <= 4; t++)
        {
            var ty = bottom - (PanelHeight * t / 4.0);
            svg.AppendLine(Invariant($"<line x1=\"{x}\" y1=\"{ty:0.#}\" x2=\"{x + width}\" y2=\"{ty:0.#}\" stroke=\"#ddd\"/><text x=\"{x - 6}\" y=\"{ty + 4:0.#}\" text-anchor=\"end\">{max * t / 4:0.#}</text>"));
        }

        var perSeries = rows[0].Values!.Length;
        var slot = width / (double)(systems.Count * perSeries + 1);
        for (var i = 0; i < systems.Count; i++)
        {
            var row = rows.FirstOrDefault(r => r.System == systems[i]);
            if (row.Values is null)
            {
                continue;
            }

            for (var k = 0; k < row.Values.Length; k++)
            {
                var value = row.Values[k];
                var h = PanelHeight * Math.Min(1, value / max);
                var bx = x + (slot * ((k * systems.Count) + i + 0.5));
                var opacity = k == 0 && perSeries > 1 ? "0.45" : "1";
                svg.AppendLine(Invariant($"<rect x=\"{bx:0.#}\" y=\"{bottom - h:0.#}\" width=\"{slot - 2:0.#}\" height=\"{h:0.#}\" fill=\"{Colors[i % Colors.Length]}\" fill-opacity=\"{opacity}\"><title>{SecurityElement.Escape(systems[i])}: {value:0.#}</title></rect>"));
                svg.AppendLine(Invariant($"<text x=\"{bx + ((slot - 2) / 2):0.#}\" y=\"{bottom - h - 3:0.#}\" text-anchor=\"middle\" font-size=\"9\">{value:0.#}</text>"));
            }
        }

        if (series is not null)
        {
            for (var k = 0; k < series.Length; k++)
            {
                var cx = x + (slot * ((k * systems.Count) + (systems.Count / 2.0) + 0.5));
                svg.AppendLine(Invariant($"<text x=\"{cx:0.#}\" y=\"{bottom + 16}\" text-anchor=\"middle\">{SecurityElement.Escape(series[k])}</text>"));
            }
        }
    }

    private static double Nice(double value)
    {
        if (value <= 0)
        {
            return 1;
        }

        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
        return new[] { 1, 2, 2.5, 5, 10 }.Select(m => m * magnitude).First(v => v >= value);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

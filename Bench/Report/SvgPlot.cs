using System.Globalization;
using System.Security;
using System.Text;
using Realtime.Bench.Scenarios;

namespace Realtime.Bench.Report;

/// <summary>
/// The plot: for each throughput scenario, each system's delivered messages per second (left) and p99 latency
/// (right: at the fixed load for fan-out, saturated for the others), as grouped bars with their values.
/// </summary>
public static class SvgPlot
{
    private const int PanelWidth = 520;
    private const int PanelHeight = 300;
    private const int Top = 50;
    private const int Left = 70;
    private static readonly string[] Colors = ["#1f77b4", "#17becf", "#2ca02c", "#9467bd", "#d62728", "#ff7f0e", "#8c564b"];

    private static readonly (string Scenario, string Label)[] Scenarios =
    [
        (ScenarioNames.Fanout, "room fan-out"),
        (ScenarioNames.Broadcast, "broadcast"),
        (ScenarioNames.Rooms, "small rooms"),
        (ScenarioNames.SmallFanout, "small fan-out"),
        (ScenarioNames.SmallFanoutJs, "small fan-out, JS"),
    ];

    public static string Write(IReadOnlyList<string> systems, IReadOnlyList<ScenarioResult> results)
    {
        var scenarios = Scenarios.Where(s => results.Any(r => r.Scenario == s.Scenario && r.Error is null)).ToList();
        var width = (2 * PanelWidth) + (2 * Left);
        var height = Top + PanelHeight + 60 + (20 * ((systems.Count + 1) / 2));
        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>");

        Panel(svg, Left, "delivered messages per second (saturated)", systems, scenarios, results, r => r.Phase(ScenarioRunner.Saturated)?.DeliveredPerSecond, v => Compact(v));
        Panel(svg, (2 * Left) + PanelWidth, "p99 latency, ms, log scale (fan-outs at fixed load)", systems, scenarios, results, P99, v => v.ToString(v < 10 ? "0.0" : "0", CultureInfo.InvariantCulture), logarithmic: true);

        // The legend.
        for (var i = 0; i < systems.Count; i++)
        {
            var x = Left + ((i % 2) * (PanelWidth + Left));
            var y = Top + PanelHeight + 45 + (20 * (i / 2));
            svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{x}\" y=\"{y - 10}\" width=\"12\" height=\"12\" fill=\"{Colors[i % Colors.Length]}\"/>");
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x + 18}\" y=\"{y}\">{SecurityElement.Escape(systems[i])}</text>");
        }

        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static double? P99(ScenarioResult result) =>
        (result.Phase(ScenarioRunner.FixedLoad) ?? result.Phase(ScenarioRunner.Saturated))?.P99Micros / 1000.0;

    private static void Panel(
        StringBuilder svg,
        int x0,
        string title,
        IReadOnlyList<string> systems,
        List<(string Scenario, string Label)> scenarios,
        IReadOnlyList<ScenarioResult> results,
        Func<ScenarioResult, double?> value,
        Func<double, string> label,
        bool logarithmic = false)
    {
        var bottom = Top + PanelHeight;
        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x0 + (PanelWidth / 2)}\" y=\"{Top - 25}\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">{SecurityElement.Escape(title)}</text>");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{x0}\" y1=\"{bottom}\" x2=\"{x0 + PanelWidth}\" y2=\"{bottom}\" stroke=\"black\"/>");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{x0}\" y1=\"{Top}\" x2=\"{x0}\" y2=\"{bottom}\" stroke=\"black\"/>");

        var values = scenarios.SelectMany(s => systems.Select(system => Find(results, s.Scenario, system) is { } r ? value(r) : null)).Where(v => v is > 0).Select(v => v!.Value).ToList();
        var max = NiceCeiling(values.Count == 0 ? 1 : values.Max(), decade: logarithmic);

        // A linear axis from zero in four steps, or a logarithmic one by decades from the decade below the least value.
        var min = logarithmic ? Math.Pow(10, Math.Floor(Math.Log10(values.Count == 0 ? 1 : values.Min()))) : 0;
        var ticks = logarithmic
            ? Enumerable.Range(0, (int)Math.Round(Math.Log10(max / min)) + 1).Select(d => min * Math.Pow(10, d)).ToList()
            : Enumerable.Range(0, 5).Select(t => max * t / 4).ToList();
        double Height(double v) => logarithmic
            ? PanelHeight * Math.Clamp(Math.Log10(v / min) / Math.Log10(max / min), 0, 1)
            : PanelHeight * Math.Min(1, v / max);
        foreach (var tick in ticks)
        {
            var y = bottom - Height(tick);
            svg.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{x0}\" y1=\"{y:0.#}\" x2=\"{x0 + PanelWidth}\" y2=\"{y:0.#}\" stroke=\"#ddd\"/>");
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x0 - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{label(tick)}</text>");
        }

        if (scenarios.Count == 0)
        {
            return;
        }

        var groupWidth = PanelWidth / (double)scenarios.Count;
        var barWidth = (groupWidth - 20) / systems.Count;
        for (var g = 0; g < scenarios.Count; g++)
        {
            var groupX = x0 + (g * groupWidth) + 10;
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{groupX + ((groupWidth - 20) / 2):0.#}\" y=\"{bottom + 18}\" text-anchor=\"middle\">{scenarios[g].Label}</text>");
            for (var s = 0; s < systems.Count; s++)
            {
                if (Find(results, scenarios[g].Scenario, systems[s]) is not { } result || value(result) is not { } v || double.IsNaN(v))
                {
                    continue;
                }

                var h = Height(v);
                var x = groupX + (s * barWidth);
                svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{x:0.#}\" y=\"{bottom - h:0.#}\" width=\"{barWidth - 2:0.#}\" height=\"{h:0.#}\" fill=\"{Colors[s % Colors.Length]}\"><title>{SecurityElement.Escape(systems[s])}: {label(v)}</title></rect>");
                svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x + ((barWidth - 2) / 2):0.#}\" y=\"{bottom - h - 4:0.#}\" text-anchor=\"middle\" font-size=\"10\">{label(v)}</text>");
            }
        }
    }

    private static ScenarioResult? Find(IReadOnlyList<ScenarioResult> results, string scenario, string system) =>
        results.FirstOrDefault(r => r.Scenario == scenario && r.System == system && r.Error is null);

    private static double NiceCeiling(double value, bool decade = false)
    {
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
        return decade ? magnitude * 10 : new[] { 1, 2, 2.5, 5, 10 }.Select(m => m * magnitude).First(v => v >= value);
    }

    private static string Compact(double value) => value switch
    {
        >= 1e6 => (value / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + "M",
        >= 1e3 => (value / 1e3).ToString("0.#", CultureInfo.InvariantCulture) + "k",
        _ => value.ToString("0", CultureInfo.InvariantCulture),
    };
}

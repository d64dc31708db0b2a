using System.Globalization;

namespace Scalelite.BbbSimulator;

/// <summary>The parsed command line: host options plus where to write the manifest.</summary>
internal sealed record CommandLine(SimulatorHostOptions Options, string? ManifestPath, bool ShowHelp)
{
    public const string Usage = """
        Usage: Scalelite.BbbSimulator [options]
          --count N          number of simulated BBB servers (default 1)
          --secret S         shared secret of every server (default 8cd8ef52e8e101574e400365b55e11a6)
          --port-base P      listen on P, P+1, ... (default: ephemeral ports)
          --ports A,B,...    listen on these ports, one per server
          --host IP          address to listen on (default 127.0.0.1)
          --manifest FILE    once every listener is bound, write the servers as JSON to FILE
          --spool DIR        recording spool for POST /sim/recordings/{meetingID} without ?spool=
          --help             show this text
        """;

    /// <summary>Parses <paramref name="args"/>; throws <see cref="FormatException"/> with a message fit for the user.</summary>
    public static CommandLine Parse(IReadOnlyList<string> args)
    {
        var options = new SimulatorHostOptions();
        string? manifest = null;
        var countGiven = false;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name is "--help" or "-h")
            {
                return new CommandLine(options, null, ShowHelp: true);
            }

            if (i + 1 >= args.Count)
            {
                throw new FormatException($"{name} needs a value.");
            }

            var value = args[++i];
            switch (name)
            {
                case "--count":
                    options.Count = PositiveInt(name, value);
                    countGiven = true;
                    break;
                case "--secret":
                    options.Secret = value.Length > 0 ? value : throw new FormatException("--secret must not be empty.");
                    break;
                case "--port-base":
                    options.PortBase = PositiveInt(name, value);
                    break;
                case "--ports":
                    options.Ports = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                        .Select(p => PositiveInt(name, p))
                        .ToArray();
                    break;
                case "--host":
                    options.Host = value;
                    break;
                case "--spool":
                    options.SpoolDirectory = value;
                    break;
                case "--manifest":
                    manifest = value;
                    break;
                default:
                    throw new FormatException($"Unknown option {name}.");
            }
        }

        if (options.Ports is { } ports)
        {
            if (!countGiven)
            {
                options.Count = ports.Count;
            }
            else if (ports.Count != options.Count)
            {
                throw new FormatException($"--ports lists {ports.Count} ports but --count is {options.Count}.");
            }
        }

        return new CommandLine(options, manifest, ShowHelp: false);
    }

    private static int PositiveInt(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new FormatException($"{name} expects a positive integer, got '{value}'.");
}

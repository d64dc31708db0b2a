using System.Globalization;

namespace Scalelite.AppHost;

/// <summary>The launcher's flags. Kept by hand: five flags do not need a parser library.</summary>
public static class CommandLine
{
    public const string Usage = """
        Usage: dotnet run --project Scalelite.AppHost [-- options]

        Starts PostgreSQL, Redis, simulated BBB servers and the Scalelite services on this machine,
        registers the simulators with the API, and stops everything on Ctrl-C or SIGTERM.

        Options:
          --state-dir DIR     data, logs, ports and endpoints.json (default: ./.scalelite)
          --simulators N      number of simulated BBB servers (default: 3; 0 allowed)
          --api-port PORT     port of the API (default: a free port, the previous one when still free)
          --secret SECRET     LOADBALANCER_SECRET (default: generated once, kept in STATE/secret)
          -h, --help          show this help

        Environment variables given to the launcher (POLL_INTERVAL, LOADBALANCER_CHECKSUM_ALGORITHM, ...)
        reach the services. See Scalelite.AppHost/README.md.
        """;

    /// <summary>Parses <paramref name="args"/>; returns null with <paramref name="error"/> set when they are wrong, and null without an error for --help.</summary>
    public static AppHostOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        error = null;
        var options = new AppHostOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string? inlineValue = null;
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Contains('=', StringComparison.Ordinal))
            {
                inlineValue = arg[(arg.IndexOf('=', StringComparison.Ordinal) + 1)..];
                arg = arg[..arg.IndexOf('=', StringComparison.Ordinal)];
            }
            switch (arg)
            {
                case "-h" or "--help":
                    return null;
                case "--state-dir":
                    if (Value(args, ref i, inlineValue, arg, out var dir, out error))
                    {
                        options = options with { StateDirectory = Path.GetFullPath(dir) };
                        break;
                    }
                    return null;
                case "--simulators":
                    if (Value(args, ref i, inlineValue, arg, out var count, out error))
                    {
                        if (!int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > 100)
                        {
                            error = $"--simulators expects a number from 0 to 100, not '{count}'.";
                            return null;
                        }
                        options = options with { Simulators = n };
                        break;
                    }
                    return null;
                case "--api-port":
                    if (Value(args, ref i, inlineValue, arg, out var port, out error))
                    {
                        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
                        {
                            error = $"--api-port expects a TCP port (1-65535), not '{port}'.";
                            return null;
                        }
                        options = options with { ApiPort = p };
                        break;
                    }
                    return null;
                case "--secret":
                    if (Value(args, ref i, inlineValue, arg, out var secret, out error))
                    {
                        if (secret.Length == 0)
                        {
                            error = "--secret must not be empty.";
                            return null;
                        }
                        options = options with { Secret = secret };
                        break;
                    }
                    return null;
                default:
                    error = $"Unknown option '{args[i]}'.";
                    return null;
            }
        }
        return options;
    }

    private static bool Value(IReadOnlyList<string> args, ref int i, string? inlineValue, string flag, out string value, out string? error)
    {
        error = null;
        if (inlineValue is not null)
        {
            value = inlineValue;
            return true;
        }
        if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
        {
            value = args[++i];
            return true;
        }
        value = "";
        error = $"{flag} needs a value.";
        return false;
    }
}

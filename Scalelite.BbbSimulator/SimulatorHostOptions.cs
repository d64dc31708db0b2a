using System.Net;

namespace Scalelite.BbbSimulator;

/// <summary>How many simulated BBB servers to start and where.</summary>
public sealed class SimulatorHostOptions
{
    /// <summary>The secret every server uses unless told otherwise; documented in the README so tools can rely on it.</summary>
    public const string DefaultSecret = "8cd8ef52e8e101574e400365b55e11a6";

    /// <summary>Number of servers (ids <c>sim-1</c>..<c>sim-N</c>).</summary>
    public int Count { get; set; } = 1;

    /// <summary>The secret of every server, unless <see cref="Secrets"/> is set.</summary>
    public string Secret { get; set; } = DefaultSecret;

    /// <summary>One secret per server, overriding <see cref="Secret"/>; must have <see cref="Count"/> entries.</summary>
    public IReadOnlyList<string>? Secrets { get; set; }

    /// <summary>The IP address to listen on.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Explicit ports, one per server; must have <see cref="Count"/> entries. Takes precedence over <see cref="PortBase"/>.</summary>
    public IReadOnlyList<int>? Ports { get; set; }

    /// <summary>When positive, servers listen on PortBase, PortBase+1, ...; otherwise (and without <see cref="Ports"/>) on ephemeral ports.</summary>
    public int PortBase { get; set; }

    /// <summary>The recording spool every server writes to when a recording request names none (the topology's shared volume).</summary>
    public string? SpoolDirectory { get; set; }

    /// <summary>Prefix of server ids.</summary>
    public string IdPrefix { get; set; } = "sim-";

    /// <summary>The <c>bbbVersion</c> reported by the index call.</summary>
    public string BbbVersion { get; set; } = "3.0.19";

    /// <summary>Delay of <see cref="FaultMode.Slow"/> when none is given.</summary>
    public TimeSpan DefaultSlowDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Source of timestamps and of the slow-mode delay.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Logging setup; by default nothing is logged, which is what a test process wants.</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; set; }

    internal IPAddress Validate()
    {
        if (Count < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Count), Count, "At least one server is needed.");
        }

        if (Ports is not null && Ports.Count != Count)
        {
            throw new ArgumentException($"{Ports.Count} ports given for {Count} servers.", nameof(Ports));
        }

        if (Ports is not null && Ports.Any(p => p is < 0 or > 65535))
        {
            throw new ArgumentException("Ports must be between 0 and 65535.", nameof(Ports));
        }

        if (Ports is null && PortBase > 0 && PortBase + Count - 1 > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(PortBase), PortBase, "The port range goes beyond 65535.");
        }

        if (Secrets is not null && Secrets.Count != Count)
        {
            throw new ArgumentException($"{Secrets.Count} secrets given for {Count} servers.", nameof(Secrets));
        }

        if ((Secrets ?? [Secret]).Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("A secret must not be empty.", nameof(Secret));
        }

        if (!IPAddress.TryParse(Host, out var address))
        {
            throw new ArgumentException($"'{Host}' is not an IP address.", nameof(Host));
        }

        return address;
    }

    internal int PortOf(int index) => Ports is not null ? Ports[index] : PortBase > 0 ? PortBase + index : 0;

    internal string SecretOf(int index) => Secrets is not null ? Secrets[index] : Secret;
}

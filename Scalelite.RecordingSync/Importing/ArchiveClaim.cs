using System.Globalization;

namespace Scalelite.RecordingSync.Importing;

/// <summary>
/// An archive one importer holds: renamed in the spool to <c>.claim.&lt;unix ms&gt;.&lt;instance&gt;.&lt;name&gt;</c>.
/// </summary>
/// <remarks>
/// <para>Several RecordingSync instances may watch one spool. Each claims an archive before importing it by renaming it
/// within the spool directory: a rename within one directory is atomic on a local file system and on NFS alike, so of
/// two importers renaming the same name exactly one succeeds; the other finds the name gone. The claim's name is
/// dot-led (no scan takes it for a new archive) and says who claimed it and when.</para>
/// <para>The holder renews the claim (renames it again with the current time) every third of
/// <c>Recording__ImportClaimTimeout</c>. A claim older than the timeout belongs to an importer that died; any importer
/// may take it over, by the same rename, and import it from scratch (the import is idempotent, see
/// <see cref="RecordingImporter"/>). A holder whose renewal finds its name gone has been taken over and stops: only a
/// holder that stalled for two thirds of the timeout can lose a live claim that way. An import that fails for a
/// temporary reason releases the claim, renaming the archive back.</para>
/// <para>A rename over NFS whose reply is lost may be retransmitted and answer "not found" although it succeeded; a
/// failed rename therefore checks whether the new name exists before it counts as lost.</para>
/// </remarks>
public sealed class ArchiveClaim
{
    private const string Prefix = ".claim.";
    private readonly Lock _gate = new();
    private readonly string _spool;
    private string _path;

    private ArchiveClaim(string spool, string path, string name, bool claimed)
    {
        _spool = spool;
        _path = path;
        Name = name;
        IsClaimed = claimed;
    }

    /// <summary>This process, as claims name it: host and process id, without dots.</summary>
    public static string Instance { get; } =
        $"{Environment.MachineName.Replace('.', '-')}-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The archive's name as it arrived (the import log's key).</summary>
    public string Name { get; }

    /// <summary>Whether the archive was renamed into a claim (false for a direct import of a path).</summary>
    public bool IsClaimed { get; }

    /// <summary>Where the archive is now.</summary>
    public string Path
    {
        get
        {
            lock (_gate)
            {
                return _path;
            }
        }
    }

    /// <summary>An archive imported where it lies, without a claim (a single importer, tests, the CLI).</summary>
    public static ArchiveClaim Unclaimed(string path) =>
        new(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!, path, System.IO.Path.GetFileName(path), claimed: false);

    /// <summary>Whether a spool entry is a claim; its holder, time and the archive's name when it is.</summary>
    public static bool TryParse(string fileName, out DateTimeOffset claimedAt, out string instance, out string name)
    {
        claimedAt = default;
        instance = name = string.Empty;
        if (!fileName.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = fileName[Prefix.Length..].Split('.', 3);
        if (parts.Length != 3 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ms) || parts[1].Length == 0 || parts[2].Length == 0)
        {
            return false;
        }

        claimedAt = DateTimeOffset.FromUnixTimeMilliseconds(ms);
        instance = parts[1];
        name = parts[2];
        return true;
    }

    /// <summary>Claims a new archive of the spool; null when another importer was first.</summary>
    public static ArchiveClaim? TryClaim(string spool, string name, DateTimeOffset now)
    {
        var claim = ClaimPath(spool, name, now);
        return TryRename(System.IO.Path.Combine(spool, name), claim) ? new(spool, claim, name, claimed: true) : null;
    }

    /// <summary>Whether a spool entry is a claim its holder stopped renewing <paramref name="timeout"/> ago or more.</summary>
    public static bool IsAbandoned(string claimFileName, DateTimeOffset now, TimeSpan timeout) =>
        TryParse(claimFileName, out var claimedAt, out _, out _) && Expired(claimedAt, now, timeout);

    /// <summary>The name this instance gives the claim on <paramref name="name"/> made or renewed at <paramref name="now"/>.</summary>
    public static string ClaimFileName(string name, DateTimeOffset now) =>
        $"{Prefix}{now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}.{Instance}.{name}";

    /// <summary>Takes over a claim older than <paramref name="timeout"/>; null when it is live, or another importer was first.</summary>
    public static ArchiveClaim? TryTakeOver(string spool, string claimFileName, DateTimeOffset now, TimeSpan timeout)
    {
        if (!TryParse(claimFileName, out var claimedAt, out _, out var name) || !Expired(claimedAt, now, timeout))
        {
            return null;
        }

        var to = ClaimPath(spool, name, now);
        return TryRename(System.IO.Path.Combine(spool, claimFileName), to) ? new(spool, to, name, claimed: true) : null;
    }

    /// <summary>Renews the claim with the current time; false when another importer has taken it over.</summary>
    public bool Renew(DateTimeOffset now)
    {
        lock (_gate)
        {
            var to = ClaimPath(_spool, Name, now);
            if (to == _path)
            {
                return true;
            }

            if (!TryRename(_path, to))
            {
                return false;
            }

            _path = to;
            return true;
        }
    }

    /// <summary>Puts the archive back under its own name, for another attempt by whichever importer comes first.</summary>
    public void Release()
    {
        lock (_gate)
        {
            var to = System.IO.Path.Combine(_spool, Name);
            if (IsClaimed && TryRename(_path, to))
            {
                _path = to;
            }
        }
    }

    /// <summary>Runs a step on the archive's current path, with no renewal moving it meanwhile.</summary>
    public void Use(Action<string> step)
    {
        lock (_gate)
        {
            step(_path);
        }
    }

    private static bool Expired(DateTimeOffset claimedAt, DateTimeOffset now, TimeSpan timeout) => now - claimedAt >= timeout;

    private static string ClaimPath(string spool, string name, DateTimeOffset now) => System.IO.Path.Combine(spool, ClaimFileName(name, now));

    private static bool TryRename(string from, string to)
    {
        try
        {
            // overwrite: true is rename(2) itself; without it .NET links and unlinks, which is not atomic. The target's
            // name is this instance's own, so nothing is overwritten.
            File.Move(from, to, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return File.Exists(to);
        }
    }
}

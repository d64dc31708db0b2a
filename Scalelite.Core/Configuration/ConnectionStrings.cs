namespace Scalelite.Core.Configuration;

/// <summary>Turns Scalelite's URL-style connection settings into the forms Npgsql and StackExchange.Redis take.</summary>
public static class ConnectionStrings
{
    public const string Postgres = "scalelite";
    public const string Redis = "redis";

    /// <summary><c>postgres://user:pass@host:port/db?sslmode=require</c> → Npgsql keywords. Anything else is returned unchanged.</summary>
    public static string FromPostgresUrl(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != "postgres" && uri.Scheme != "postgresql"))
        {
            return value;
        }

        var parts = new List<string> { $"Host={uri.Host}" };
        if (uri.Port > 0)
        {
            parts.Add($"Port={uri.Port}");
        }

        var userInfo = uri.UserInfo.Split(':', 2);
        if (userInfo[0].Length > 0)
        {
            parts.Add($"Username={Uri.UnescapeDataString(userInfo[0])}");
        }

        if (userInfo.Length > 1)
        {
            parts.Add($"Password={Uri.UnescapeDataString(userInfo[1])}");
        }

        var database = uri.AbsolutePath.Trim('/');
        if (database.Length > 0)
        {
            parts.Add($"Database={Uri.UnescapeDataString(database)}");
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            if (kv[0] == "sslmode" && kv.Length == 2)
            {
                parts.Add($"SSL Mode={kv[1]}");
            }
        }

        return string.Join(';', parts);
    }

    /// <summary><c>redis://:pass@host:port/db</c> (or <c>rediss://</c>) → StackExchange.Redis configuration. Anything else unchanged.</summary>
    public static string FromRedisUrl(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != "redis" && uri.Scheme != "rediss"))
        {
            return value;
        }

        var parts = new List<string> { $"{uri.Host}:{(uri.Port > 0 ? uri.Port : 6379)}" };
        var userInfo = uri.UserInfo.Split(':', 2);
        if (userInfo.Length == 2 && userInfo[1].Length > 0)
        {
            parts.Add($"password={Uri.UnescapeDataString(userInfo[1])}");
        }

        if (userInfo[0].Length > 0 && userInfo.Length == 2)
        {
            parts.Add($"user={Uri.UnescapeDataString(userInfo[0])}");
        }

        if (int.TryParse(uri.AbsolutePath.Trim('/'), out var db))
        {
            parts.Add($"defaultDatabase={db}");
        }

        if (uri.Scheme == "rediss")
        {
            parts.Add("ssl=true");
        }

        return string.Join(',', parts);
    }
}

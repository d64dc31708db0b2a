using System.Diagnostics;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.Deploy;

/// <summary>The shipped nginx snippet for recording playback must at least be a configuration nginx accepts.</summary>
public class NginxConfigTests
{
    [SkippableFact]
    public async Task RecordingsSnippet_IncludedInAServerBlock_PassesNginxConfigTest()
    {
        var nginx = new[] { "/usr/sbin/nginx", "/usr/local/sbin/nginx" }.FirstOrDefault(File.Exists);
        Skip.If(nginx is null, "nginx is not installed");

        var dir = Directory.CreateTempSubdirectory("scalelite-nginx-").FullName;
        try
        {
            var conf = Path.Combine(dir, "nginx.conf");
            await File.WriteAllTextAsync(conf, $$"""
                pid {{dir}}/nginx.pid;
                error_log {{dir}}/error.log;
                events {}
                http {
                  access_log off;
                  upstream scalelite_api { server 127.0.0.1:8080; }
                  server {
                    listen 127.0.0.1:8089;
                    include {{Repository.Path("deploy", "nginx", "scalelite-recordings.conf")}};
                  }
                }
                """);
            var info = new ProcessStartInfo(nginx!, ["-t", "-c", conf]) { RedirectStandardError = true, RedirectStandardOutput = true };
            using var process = Process.Start(info)!;
            var output = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

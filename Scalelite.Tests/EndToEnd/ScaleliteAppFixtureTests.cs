using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Aspire.Hosting.Testing;
using Scalelite.LocalServers;
using Scalelite.Tests.Support;

namespace Scalelite.Tests.EndToEnd;

/// <summary>
/// The end-to-end fixture when the system cannot come up: it fails at once, naming the resource that failed, rather
/// than waiting out its start-up deadline. On its own, as the other tests that start the AppHost.
/// </summary>
[Collection(AppHostProcessCollection.Name)]
public sealed class ScaleliteAppFixtureTests
{
    [Fact]
    public async Task InitializeAsync_ApiPortTakenAfterTheAppHostChoseIt_FailsNamingTheApiWithItsLastLines()
    {
        var fixture = new PortTakenFixture();
        try
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(fixture.InitializeAsync);

            Assert.StartsWith("api ", error.Message, StringComparison.Ordinal);
            Assert.Contains("state ", error.Message, StringComparison.Ordinal);
            Assert.Contains("--- last lines of api ---", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await fixture.DisposeAsync();
            fixture.Dispose();
        }
    }

    /// <summary>The API's port is free when the AppHost checks it, and taken by the time the API starts.</summary>
    private sealed class PortTakenFixture : ScaleliteAppFixture, IDisposable
    {
        private readonly int _port = FreePort.Next();
        private readonly List<TcpListener> _holders = [];

        protected override IEnumerable<string> ExtraArgs => ["--api-port", _port.ToString(CultureInfo.InvariantCulture)];

        protected override void Configure(IDistributedApplicationTestingBuilder builder)
        {
            foreach (var address in new[] { IPAddress.Loopback, IPAddress.IPv6Loopback })
            {
                var holder = new TcpListener(address, _port);
                try
                {
                    holder.Start();
                    _holders.Add(holder);
                }
                catch (SocketException)
                {
                    // No IPv6 on this machine: the IPv4 address is the one the API binds first.
                    holder.Dispose();
                }
            }
        }

        public void Dispose()
        {
            foreach (var holder in _holders)
            {
                holder.Dispose();
            }
        }
    }
}

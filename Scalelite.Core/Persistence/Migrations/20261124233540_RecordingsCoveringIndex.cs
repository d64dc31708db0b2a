using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Scalelite.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class RecordingsCoveringIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_recordings_tenant_id_start_time",
                table: "recordings");

            migrationBuilder.CreateIndex(
                name: "IX_recordings_tenant_id_start_time_id",
                table: "recordings",
                columns: new[] { "tenant_id", "start_time", "id" },
                descending: new[] { false, true, true })
                .Annotation("Npgsql:IndexInclude", new[] { "state" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_recordings_tenant_id_start_time_id",
                table: "recordings");

            migrationBuilder.CreateIndex(
                name: "IX_recordings_tenant_id_start_time",
                table: "recordings",
                columns: new[] { "tenant_id", "start_time" });
        }
    }
}

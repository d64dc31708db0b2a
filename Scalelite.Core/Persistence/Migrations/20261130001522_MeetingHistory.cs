using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Scalelite.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class MeetingHistory : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "meeting_history",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    tenant_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    meeting_id = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    internal_meeting_id = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    server_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    server_host = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    origin = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    candidates = table.Column<string>(type: "jsonb", nullable: true),
                    joins = table.Column<int>(type: "integer", nullable: false),
                    first_join_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    last_join_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    ended_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    ended_by = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    end_detail = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: true),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_meeting_history", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "meeting_history_recordings",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    tenant_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    meeting_id = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    internal_meeting_id = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    record_id = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    formats = table.Column<string[]>(type: "text[]", nullable: false),
                    imported_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    last_imported_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    meeting_ended_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    import_delay_seconds = table.Column<double>(type: "double precision", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_meeting_history_recordings", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_meeting_history_ended_at",
                table: "meeting_history",
                column: "ended_at");

            migrationBuilder.CreateIndex(
                name: "IX_meeting_history_internal_meeting_id",
                table: "meeting_history",
                column: "internal_meeting_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_meeting_history_tenant_id_meeting_id",
                table: "meeting_history",
                columns: new[] { "tenant_id", "meeting_id" });

            migrationBuilder.CreateIndex(
                name: "IX_meeting_history_updated_at",
                table: "meeting_history",
                column: "updated_at");

            migrationBuilder.CreateIndex(
                name: "IX_meeting_history_recordings_imported_at",
                table: "meeting_history_recordings",
                column: "imported_at");

            migrationBuilder.CreateIndex(
                name: "IX_meeting_history_recordings_internal_meeting_id",
                table: "meeting_history_recordings",
                column: "internal_meeting_id");

            migrationBuilder.CreateIndex(
                name: "IX_meeting_history_recordings_record_id",
                table: "meeting_history_recordings",
                column: "record_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_meeting_history_recordings_tenant_id_meeting_id",
                table: "meeting_history_recordings",
                columns: new[] { "tenant_id", "meeting_id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "meeting_history");

            migrationBuilder.DropTable(
                name: "meeting_history_recordings");
        }
    }
}

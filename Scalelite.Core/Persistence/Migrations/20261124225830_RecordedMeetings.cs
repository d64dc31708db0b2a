using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Scalelite.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class RecordedMeetings : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "recorded_meetings",
                columns: table => new
                {
                    internal_meeting_id = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    meeting_id = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: false),
                    server_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    first_seen_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    last_seen_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_recorded_meetings", x => x.internal_meeting_id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_recorded_meetings_server_id_last_seen_at",
                table: "recorded_meetings",
                columns: new[] { "server_id", "last_seen_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "recorded_meetings");
        }
    }
}

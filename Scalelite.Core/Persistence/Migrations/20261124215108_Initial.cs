using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Scalelite.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "servers",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    url = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: false),
                    secret = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: false),
                    tag = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    state = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    load_multiplier = table.Column<double>(type: "double precision", nullable: false),
                    online = table.Column<bool>(type: "boolean", nullable: false),
                    healthy_counter = table.Column<int>(type: "integer", nullable: false),
                    unhealthy_counter = table.Column<int>(type: "integer", nullable: false),
                    last_polled_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    last_poll_error = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: true),
                    bbb_version = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    meetings = table.Column<int>(type: "integer", nullable: false),
                    users = table.Column<int>(type: "integer", nullable: false),
                    largest_meeting = table.Column<int>(type: "integer", nullable: false),
                    videos = table.Column<int>(type: "integer", nullable: false),
                    load = table.Column<double>(type: "double precision", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_servers", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_servers_url",
                table: "servers",
                column: "url",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "servers");
        }
    }
}

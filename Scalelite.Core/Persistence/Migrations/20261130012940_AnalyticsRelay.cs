using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Scalelite.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class AnalyticsRelay : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "payload",
                table: "callbacks",
                type: "text",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "payload",
                table: "callbacks");
        }
    }
}

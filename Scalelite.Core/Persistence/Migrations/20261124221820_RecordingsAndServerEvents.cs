using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Scalelite.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class RecordingsAndServerEvents : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "capacity",
                table: "servers",
                type: "integer",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "callbacks",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    tenant_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    meeting_id = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: false),
                    internal_meeting_id = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    url = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: false),
                    record_id = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    next_attempt_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    last_error = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    delivered_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_callbacks", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "recording_imports",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    archive = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: false),
                    record_id = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    outcome = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    reason = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true),
                    arrived_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    finished_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_recording_imports", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "recordings",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    record_id = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    meeting_id = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: false),
                    internal_meeting_id = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    tenant_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    name = table.Column<string>(type: "text", nullable: false),
                    is_breakout = table.Column<bool>(type: "boolean", nullable: false),
                    published = table.Column<bool>(type: "boolean", nullable: false),
                    state = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    start_time = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    end_time = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    participants = table.Column<int>(type: "integer", nullable: false),
                    raw_size = table.Column<long>(type: "bigint", nullable: false),
                    @protected = table.Column<bool>(name: "protected", type: "boolean", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    deleted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_recordings", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "server_events",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    server_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    action = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    actor = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    reason = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: true),
                    from_state = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    to_state = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_server_events", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "playback_formats",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    recording_id = table.Column<long>(type: "bigint", nullable: false),
                    format = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    url = table.Column<string>(type: "text", nullable: false),
                    processing_time = table.Column<long>(type: "bigint", nullable: false),
                    duration = table.Column<long>(type: "bigint", nullable: false),
                    size = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_playback_formats", x => x.id);
                    table.ForeignKey(
                        name: "FK_playback_formats_recordings_recording_id",
                        column: x => x.recording_id,
                        principalTable: "recordings",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "recording_metadata",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    recording_id = table.Column<long>(type: "bigint", nullable: false),
                    key = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    value = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_recording_metadata", x => x.id);
                    table.ForeignKey(
                        name: "FK_recording_metadata_recordings_recording_id",
                        column: x => x.recording_id,
                        principalTable: "recordings",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "text_tracks",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    recording_id = table.Column<long>(type: "bigint", nullable: false),
                    kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    lang = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    label = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    source = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    path = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_text_tracks", x => x.id);
                    table.ForeignKey(
                        name: "FK_text_tracks_recordings_recording_id",
                        column: x => x.recording_id,
                        principalTable: "recordings",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "thumbnails",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    playback_format_id = table.Column<long>(type: "bigint", nullable: false),
                    url = table.Column<string>(type: "text", nullable: false),
                    width = table.Column<int>(type: "integer", nullable: true),
                    height = table.Column<int>(type: "integer", nullable: true),
                    alt = table.Column<string>(type: "text", nullable: true),
                    sequence = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_thumbnails", x => x.id);
                    table.ForeignKey(
                        name: "FK_thumbnails_playback_formats_playback_format_id",
                        column: x => x.playback_format_id,
                        principalTable: "playback_formats",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_callbacks_internal_meeting_id",
                table: "callbacks",
                column: "internal_meeting_id");

            migrationBuilder.CreateIndex(
                name: "IX_callbacks_status_next_attempt_at",
                table: "callbacks",
                columns: new[] { "status", "next_attempt_at" });

            migrationBuilder.CreateIndex(
                name: "IX_callbacks_tenant_id_meeting_id",
                table: "callbacks",
                columns: new[] { "tenant_id", "meeting_id" });

            migrationBuilder.CreateIndex(
                name: "IX_playback_formats_recording_id_format",
                table: "playback_formats",
                columns: new[] { "recording_id", "format" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_recording_imports_finished_at",
                table: "recording_imports",
                column: "finished_at");

            migrationBuilder.CreateIndex(
                name: "IX_recording_metadata_key_value",
                table: "recording_metadata",
                columns: new[] { "key", "value" });

            migrationBuilder.CreateIndex(
                name: "IX_recording_metadata_recording_id_key",
                table: "recording_metadata",
                columns: new[] { "recording_id", "key" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_recordings_internal_meeting_id",
                table: "recordings",
                column: "internal_meeting_id");

            migrationBuilder.CreateIndex(
                name: "IX_recordings_tenant_id_meeting_id_start_time",
                table: "recordings",
                columns: new[] { "tenant_id", "meeting_id", "start_time" });

            migrationBuilder.CreateIndex(
                name: "IX_recordings_tenant_id_start_time",
                table: "recordings",
                columns: new[] { "tenant_id", "start_time" });

            migrationBuilder.CreateIndex(
                name: "ix_recordings_record_id_pattern",
                table: "recordings",
                column: "record_id",
                unique: true)
                .Annotation("Npgsql:IndexOperators", new[] { "text_pattern_ops" });

            migrationBuilder.CreateIndex(
                name: "IX_server_events_at",
                table: "server_events",
                column: "at");

            migrationBuilder.CreateIndex(
                name: "IX_server_events_server_id_at",
                table: "server_events",
                columns: new[] { "server_id", "at" });

            migrationBuilder.CreateIndex(
                name: "IX_text_tracks_recording_id_kind_lang",
                table: "text_tracks",
                columns: new[] { "recording_id", "kind", "lang" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_thumbnails_playback_format_id",
                table: "thumbnails",
                column: "playback_format_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "callbacks");

            migrationBuilder.DropTable(
                name: "recording_imports");

            migrationBuilder.DropTable(
                name: "recording_metadata");

            migrationBuilder.DropTable(
                name: "server_events");

            migrationBuilder.DropTable(
                name: "text_tracks");

            migrationBuilder.DropTable(
                name: "thumbnails");

            migrationBuilder.DropTable(
                name: "playback_formats");

            migrationBuilder.DropTable(
                name: "recordings");

            migrationBuilder.DropColumn(
                name: "capacity",
                table: "servers");
        }
    }
}

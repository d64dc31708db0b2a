#!/usr/bin/ruby
# frozen_string_literal: true

# BigBlueButton post_publish hook: hands a published recording to the Scalelite for .NET pool.
#
# Install as /usr/local/bigbluebutton/core/scripts/post_publish/scalelite-post-publish.rb (mode 0755).
# BBB runs it as `scalelite-post-publish.rb -m <recordID> [-f <format>]` after a format is published.
#
# It packs <format>/<recordID> (from the published or unpublished tree) into a tar written under a dot-name in
# the spool directory on the shared volume, and renames it to its final name only once it is complete, so the
# importer never sees a partial archive. With -f the archive holds that format (<recordID>.<format>.tar);
# without, every format found (<recordID>.tar). Settings come from the environment or
# /etc/default/scalelite-post-publish (KEY=value lines): SCALELITE_SPOOL_DIR, BBB_PUBLISHED_DIR, BBB_UNPUBLISHED_DIR.

require 'optparse'
require 'fileutils'

def settings
  values = {
    'SCALELITE_SPOOL_DIR' => '/mnt/scalelite-recordings/var/bigbluebutton/spool',
    'BBB_PUBLISHED_DIR' => '/var/bigbluebutton/published',
    'BBB_UNPUBLISHED_DIR' => '/var/bigbluebutton/unpublished'
  }
  file = '/etc/default/scalelite-post-publish'
  if File.readable?(file)
    File.foreach(file) do |line|
      key, value = line.strip.split('=', 2)
      values[key] = value.delete('"') if value && values.key?(key)
    end
  end
  values.each_key { |key| values[key] = ENV[key] if ENV[key] && !ENV[key].empty? }
  values
end

record_id = nil
format = nil
OptionParser.new do |opts|
  opts.on('-m', '--meeting-id ID') { |v| record_id = v }
  opts.on('-f', '--format FORMAT') { |v| format = v }
end.parse!(ARGV)

safe = /\A[A-Za-z0-9][A-Za-z0-9_.-]*\z/
abort 'scalelite-post-publish: -m <recordID> is required' unless record_id&.match?(safe)
abort "scalelite-post-publish: invalid format '#{format}'" if format && !format.match?(safe)

config = settings
# tar resolves each -C from the previous one, so the roots must be absolute.
roots = [config['BBB_PUBLISHED_DIR'], config['BBB_UNPUBLISHED_DIR']].map { |r| File.expand_path(r) }
formats = format ? [format] : roots.flat_map { |root| Dir.glob(File.join(root, '*', record_id)).map { |d| File.basename(File.dirname(d)) } }.uniq
# Each format comes from the tree it is in now (published wins when both exist).
members = formats.filter_map do |f|
  root = roots.find { |r| File.directory?(File.join(r, f, record_id)) }
  ['-C', root, "#{f}/#{record_id}"] if root
end
abort "scalelite-post-publish: nothing published for #{record_id}" if members.empty?

spool = config['SCALELITE_SPOOL_DIR']
name = format ? "#{record_id}.#{format}.tar" : "#{record_id}.tar"
temporary = File.join(spool, ".#{name}.#{Process.pid}.tmp")
begin
  system('tar', '-cf', temporary, *members.flatten, exception: true)
  File.open(temporary) { |f| f.fsync }
  File.rename(temporary, File.join(spool, name))
rescue StandardError => e
  FileUtils.rm_f(temporary)
  abort "scalelite-post-publish: #{record_id}: #{e.message}"
end
puts "scalelite-post-publish: #{record_id} -> #{File.join(spool, name)}"

#!/usr/bin/env ruby
# SPDX-License-Identifier: Apache-2.0
# Write expected.tsv next to this script: for each Ruby fixture here, the gems Ruby's own
# readers find in it (FILE <TAB> NAME <TAB> VERSION), which tests/unit/test_lang_pyrb.c
# compares with src/pkgdb/ruby.c.
#
#   specifications/*.gemspec   Gem::Specification.load (evaluates the spec as rubygems does)
#   **/Gemfile.lock            Bundler::LockfileParser, specs from rubygems sources (the GEM
#                              sections), one row per distinct name and version
#
# rexml, irb, rake and digest (its second stub line holds NUL bytes) are real installed specs
# from Debian's ruby 3.1 packages; json and nokogiri are written here in the form rubygems
# writes installed specs (%q{} strings of old releases; a platform gem). Run with Debian's
# ruby (apt-get install ruby).

require "bundler"
require "rubygems"

HERE = __dir__

rows = []
Dir.glob("**/*", base: HERE).sort.each do |rel|
  full = File.join(HERE, rel)
  next unless File.file?(full)
  if rel.end_with?(".gemspec")
    spec = Gem::Specification.load(full) or abort("cannot load #{rel}")
    rows << [rel, spec.name, spec.version.to_s]
  elsif File.basename(rel) == "Gemfile.lock"
    # PATH sources resolve against the Gemfile next to the lockfile (it need not exist)
    ENV["BUNDLE_GEMFILE"] = File.join(File.dirname(full), "Gemfile")
    lock = Bundler::LockfileParser.new(File.read(full))
    seen = {}
    lock.specs.each do |s|
      next unless s.source.is_a?(Bundler::Source::Rubygems)
      key = [s.name, s.version.to_s]
      next if seen[key]
      seen[key] = true
      rows << [rel, *key]
    end
  end
end

File.open(File.join(HERE, "expected.tsv"), "w") do |f|
  f.write("# FILE\tNAME\tVERSION, written by make-expected.rb (rubygems and Bundler)\n")
  rows.each { |r| f.write(r.join("\t") + "\n") }
end
warn "#{rows.size} gems"

#!/usr/bin/env ruby
# SPDX-License-Identifier: Apache-2.0
# Generate tests/data/versions/gem.txt: pairs of real RubyGems versions (from
# ../shared/vulndb/osv/rubygems.jsonl.gz, grouped by gem) with the result of Gem::Version#<=>
# as the oracle. Needs Debian's ruby (apt-get install ruby): ruby tools/gen-versions/gen_gem.rb
# (or gen-all.sh, once it lists this script).
#
# The table format and the choice of pairs follow tools/gen-versions/common.py (same sections:
# neighbouring and random versions of one gem, versions of two gems, identical versions, then
# derived spellings and hand-picked edge cases). Gem::Version refuses malformed strings, so
# every string here is one Gem::Version accepts; vigil's order of the others is tested by hand
# in tests/unit/test_lang_pyrb.c.

require "json"
require "rubygems"
require "zlib"

SEED = 20250302
REPO_ROOT = File.expand_path("../..", __dir__)
SHARED = ENV.fetch("VIGIL_SHARED", File.join(REPO_ROOT, "..", "shared"))
OUT = File.join(REPO_ROOT, "tests", "data", "versions", "gem.txt")

EDGE = [
  "", " ", "0", "0.0", "1", "1.0", "1.0.0", "1.00", "01.0", "1.0.0.0.1", " 1.0 ", "\t1.0\n",
  "\v1.0\f", "1.a", "1.0.a", "1.0a", "1.A", "1.0.A", "1.a.0", "1.a.0.0", "1.a.1",
  "1.a.b", "1.b", "1.aa", "1.0.a.0.b", "1.0.a.1", "1.0.0.a", "1.0.a10", "1.0.a9", "1.0.a.10",
  "1.0-1", "1.0-a", "1.0-pre", "1.0.pre", "1.0.pre.1", "1.0-pre.1", "1.0--", "1.0-a-b",
  "1.0-1.2", "1.0-x86", "1.0.rc1", "1.0.rc2", "1.0.rc10", "1.0.RC1", "1.0.beta", "1.0.beta1",
  "1.0.alpha", "1.0.pre1", "1.0.1", "1.1", "2", "1.0.0.1", "10", "9", "1.9", "1.10",
  "99999999999999999999999999", "100000000000000000000000000", "1.99999999999999999999",
  "1.100000000000000000000", "0.0.0.1", "0.a", "0.0.a", "1.0.0.rc.0", "1.0.0.rc", "3.0.0.0.0",
  "2.0.0.pre.rc1", "2.0.0-rc1", "5.2.4.3", "5.2.4.rc1", "6.0.0.beta3", "1.13.10",
]

def log(msg)
  $stderr.puts(msg)
end

def escape(v)
  out = +""
  v.b.each_byte.with_index do |b, i|
    out << if b == 0x5C then "\\\\"
           elsif b == 0x09 then "\\t"
           elsif b == 0x0A then "\\n"
           elsif b == 0x0D then "\\r"
           elsif b < 0x20 || b >= 0x7F || (i.zero? && b == 0x23) then format("\\x%02x", b)
           else b.chr
           end
  end
  out
end

def osv_versions(file, eco)
  groups = Hash.new { |h, k| h[k] = {} }
  Zlib::GzipReader.open(File.join(SHARED, "vulndb", "osv", file)) do |gz|
    gz.each_line do |line|
      rec = JSON.parse(line)
      (rec["affected"] || []).each do |aff|
        pkg = aff["package"] || {}
        next unless pkg["ecosystem"] == eco
        s = groups[pkg["name"]]
        (aff["ranges"] || []).each do |rng|
          next unless rng["type"] == "ECOSYSTEM"
          (rng["events"] || []).each do |ev|
            ev.each do |k, v|
              next if k == "introduced" && v == "0"
              s[v] = true if v.is_a?(String) && !v.empty?
            end
          end
        end
        (aff["versions"] || []).each { |v| s[v] = true if v.is_a?(String) && !v.empty? }
      end
    end
  end
  groups.transform_values { |h| h.keys.sort }.reject { |_, v| v.empty? }
end

# Rough ordering that puts close versions next to each other (the oracle decides the real
# order), as common.natural_key does.
def natural_key(v)
  [v.split(/(\d+)/).reject(&:empty?).map { |p| p =~ /\A\d+\z/ ? [0, p.to_i, ""] : [1, 0, p] }, v]
end

class PairSet
  attr_reader :sections

  def initialize(rng)
    @rng = rng
    @seen = {}
    @sections = []
  end

  def section(name, desc)
    @sections << [name, desc, []]
  end

  def add(a, b)
    key = a <= b ? [a, b] : [b, a]
    return false if @seen[key]
    @seen[key] = true
    a, b = b, a if a != b && @rng.rand < 0.5
    @sections.last[2] << [a, b]
    true
  end

  def count
    @sections.sum { |s| s[2].size }
  end
end

def oracle(a, b)
  Gem::Version.new(a) <=> Gem::Version.new(b)
end

def variants(v)
  out = []
  out << "#{v}.0" unless v.include?("-")
  out << "#{v}.0.0" unless v.include?("-")
  out << " #{v}\n"
  out << "0#{v}"
  out << v.sub(/\.(?=[a-zA-Z])/, "-") if v =~ /\.[a-zA-Z]/
  out << v.sub(/\.([a-zA-Z]+)/) { ".#{Regexp.last_match(1).upcase}" } if v =~ /\.[a-zA-Z]/
  out << v.sub(/(\d)\.([a-zA-Z])/, '\1\2') if v =~ /\d\.[a-zA-Z]/
  out.select { |x| x != v && Gem::Version.correct?(x) }
end

def main
  rng = Random.new(SEED)
  groups = osv_versions("rubygems.jsonl.gz", "RubyGems")
  groups = groups.transform_values { |vs| vs.select { |v| v.ascii_only? && Gem::Version.correct?(v) } }
  groups = groups.reject { |_, vs| vs.empty? }
  allv = groups.values.flatten.uniq.sort
  log("gem: #{groups.size} gems, #{allv.size} versions")

  ps = PairSet.new(rng)
  names = groups.keys.sort.select { |n| groups[n].size >= 2 }

  ps.section("same-package-adjacent", "neighbouring versions of one package")
  adjacent = []
  names.each do |n|
    vs = groups[n].sort_by { |v| natural_key(v) }
    vs.each_cons(2) { |a, b| adjacent << [a, b] }
  end
  adjacent.shuffle(random: rng).each do |a, b|
    break if ps.sections.last[2].size >= 4500
    ps.add(a, b)
  end

  ps.section("same-package-random", "two random versions of one package")
  weighted = names.flat_map { |n| [n] * groups[n].size }
  tries = 0
  while ps.sections.last[2].size < 4500 && tries < 4500 * 20
    tries += 1
    n = weighted[rng.rand(weighted.size)]
    a, b = groups[n].sample(2, random: rng)
    ps.add(a, b)
  end

  ps.section("cross-package", "random versions of two different packages")
  all_names = groups.keys.sort
  tries = 0
  while ps.sections.last[2].size < 1500 && tries < 1500 * 20
    tries += 1
    x = all_names[rng.rand(all_names.size)]
    y = all_names[rng.rand(all_names.size)]
    next if x == y
    ps.add(groups[x][rng.rand(groups[x].size)], groups[y][rng.rand(groups[y].size)])
  end

  ps.section("identical", "a version compared with itself")
  allv.sample([300, allv.size].min, random: rng).each { |v| ps.add(v, v) }
  real = ps.count

  ps.section("equivalent-forms", "a real version against other spellings of it (trailing .0, " \
             "blanks, a leading 0, '-' for '.', upper case, no '.' before letters)")
  allv.sample(400, random: rng).each { |v| variants(v).each { |w| ps.add(v, w) } }
  derived = ps.count - real

  ps.section("edge-cases", "hand-picked edge cases, all pairs (not real data)")
  EDGE.each_with_index do |a, i|
    raise "not a valid gem version: #{a.inspect}" unless Gem::Version.correct?(a)
    EDGE[(i + 1)..].each { |b| ps.add(a, b) }
  end

  File.open(OUT, "w") do |f|
    [
      "RubyGems version pairs: A <TAB> B <TAB> sign of cmp(A, B). Generated by",
      "tools/gen-versions/gen_gem.rb (run tools/gen-versions/gen-all.sh); do not edit.",
      "Oracle: Gem::Version#<=> of rubygems #{Gem::VERSION} (ruby #{RUBY_VERSION}).",
      "Versions: ../shared/vulndb/osv/rubygems.jsonl.gz (ASCII, all valid for Gem::Version).",
      "Escapes in A and B: \\\\ \\t \\n \\r \\xHH; lines starting with '#' are comments.",
      "",
    ].each { |l| f.write(l.empty? ? "#\n" : "# #{l}\n") }
    ps.sections.each do |name, desc, rows|
      f.write("# section: #{name} (#{rows.size} pairs): #{desc}\n")
      rows.each { |a, b| f.write("#{escape(a)}\t#{escape(b)}\t#{oracle(a, b)}\n") }
    end
  end
  log("gem: #{ps.count} pairs (#{real} of real versions, #{derived} derived from real versions)")
  log("gem: wrote #{OUT}")
end

main

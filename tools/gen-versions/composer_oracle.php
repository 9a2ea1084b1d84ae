<?php
// SPDX-License-Identifier: Apache-2.0
// Oracle for tests/data/versions/composer.txt (run by gen_composer.py) with Debian's
// php-composer-semver: reads lines "A<TAB>B" on stdin; each version is normalised with
// Composer\Semver\VersionParser::normalize() (kept as written when normalize() rejects it),
// then Composer\Semver\Comparator decides <, == and >. Prints per line the sign (-1, 0, 1),
// or "x" when the Comparator calls none of the three true (two different dev- branches),
// then TAB, the normalised A and B ("!" when normalize() rejected them).
require_once '/usr/share/php/Composer/Semver/autoload.php';

use Composer\Semver\Comparator;
use Composer\Semver\VersionParser;

$parser = new VersionParser();
function norm($parser, $v, &$ok)
{
    try {
        $ok = true;
        return $parser->normalize($v);
    } catch (\Exception $e) {
        $ok = false;
        return $v;
    }
}

while (($line = fgets(STDIN)) !== false) {
    $line = rtrim($line, "\n");
    $tab = strpos($line, "\t");
    $a = substr($line, 0, $tab);
    $b = substr($line, $tab + 1);
    $na = norm($parser, $a, $oka);
    $nb = norm($parser, $b, $okb);
    $lt = Comparator::compare($na, '<', $nb);
    $eq = Comparator::compare($na, '==', $nb);
    $gt = Comparator::compare($na, '>', $nb);
    if ($lt + $eq + $gt !== 1) {
        $r = 'x';
    } else {
        $r = $lt ? '-1' : ($eq ? '0' : '1');
    }
    echo $r, "\t", $oka ? $na : '!', "\t", $okb ? $nb : '!', "\n";
}

#!/usr/bin/env bash
# The second purity check of rules/, on what the compiler produced rather than on the text: every
# symbol the library needs from outside itself must be on the allow-list below (the C++ runtime,
# containers, mem* and math; sanitizer hooks and ARM EABI helpers), and none may read a clock, a
# stream, a file or randomness. A text check can be talked around (`using C =
# std::chrono::steady_clock; C::now()`); the linker's list of undefined symbols cannot.
# Usage: check_rules_symbols.sh NM LIBRARY_OR_OBJECT...
set -euo pipefail
nm=${1:?usage: check_rules_symbols.sh NM FILE...}
shift
defined=$("$nm" -C --defined-only "$@" | awk 'NF >= 3 { $1 = ""; $2 = ""; sub(/^ +/, ""); print }' | sort -u)
needed=$("$nm" -C -u "$@" | awk 'NF >= 2 && $1 == "U" { $1 = ""; sub(/^ +/, ""); print }' | sort -u)
external=$(comm -23 <(echo "$needed") <(echo "$defined") | sed '/^$/d')

# Denied even inside std::: clocks, randomness, streams, files, threads, the environment.
deny='(chrono::.*clock::now|random_device|basic_[io]?f?stream|basic_filebuf|(^|::)c(out|err|log|in)$|ios_base|filesystem::|this_thread::|std::locale|getenv)'
allow='^(std::|operator (new|delete)|__cxa_|__gxx_personality_v0$|_Unwind_Resume$|__stack_chk_fail$|__assert_fail$|__dso_handle$|_GLOBAL_OFFSET_TABLE_$|vtable for __cxxabiv1::|typeinfo for |__(asan|ubsan|lsan|tsan|sanitizer|sancov)_|__aeabi_|__gnu_unwind_|mem(chr|cmp|cpy|move|set)$|strlen$|(floor|ceil|round|lround|llround|trunc|fabs|fmod|pow|exp|log|log10|sqrt|nan)f?$)'
problems=$(grep -E "$deny" <<<"$external" || true)
problems+=$'\n'$(grep -vE "$allow" <<<"$external" || true)
problems=$(sed '/^$/d' <<<"$problems" | sort -u)
if [[ -n $problems ]]; then
  echo "rules/ symbol check failed: rules/ needs these from outside the allow-list (cmake/check_rules_symbols.sh):"
  sed 's/^/  /' <<<"$problems"
  echo "rules/ takes time and data as arguments: no clock reads, I/O, randomness or third-party calls"
  exit 1
fi

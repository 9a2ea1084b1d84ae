# SPDX-License-Identifier: Apache-2.0
# vigil: non-recursive build. Objects go to build/<variant>/.
#   make                      debug build (-O0 -g3)
#   make BUILD=release        hardened optimised build
#   make SAN=address,undefined  sanitizer build (build/san-address-undefined)
#   make check                unit tests;  make e2e;  make test (everything CI runs)
#   make fuzz CC=clang        libFuzzer targets;  make fuzz-replay  corpus replay (any CC)

BUILD ?= debug
SAN   ?=
CC    ?= cc
PKGS  := jansson libcurl sqlite3 libcrypto libzstd zlib libmicrohttpd

ifeq ($(SAN),)
VARIANT := $(BUILD)
else
VARIANT := san-$(subst $(comma),-,$(SAN))
endif
comma := ,
ifneq ($(SAN),)
VARIANT := san-$(subst $(comma),-,$(SAN))
endif
B ?= build/$(VARIANT)

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wold-style-definition -Wpointer-arith -Wwrite-strings -Wvla -Wformat=2 -Wundef \
	-Wcast-qual -Wnull-dereference -Wredundant-decls -Wswitch-enum \
	-Wno-missing-field-initializers -Wimplicit-fallthrough -fno-common
ifneq ($(findstring clang,$(CC)),clang)
WARN += -Wformat-overflow=2 -Wformat-truncation=2 -Wimplicit-fallthrough=5 \
	-Wduplicated-cond -Wduplicated-branches -Wlogical-op
endif
ifeq ($(DEV),1)
WARN += -Werror
endif

CPPFLAGS += -D_GNU_SOURCE -Isrc -Itests/unit $(shell pkg-config --cflags $(PKGS))
CFLAGS   += -std=c17 $(WARN) -MMD -MP -pthread
LDLIBS   += $(shell pkg-config --libs $(PKGS)) -lisal -lpthread -lm

ifeq ($(BUILD),release)
CFLAGS  += -O2 -g -DNDEBUG -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fPIE
LDFLAGS += -pie -Wl,-z,relro,-z,now
else
CFLAGS  += -O0 -g3
endif
ifneq ($(SAN),)
CFLAGS  += -O1 -g -fsanitize=$(SAN) -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SAN)
endif

SRC_ALL   := $(sort $(wildcard src/*/*.c))
SRC_MAIN  := src/cli/main.c
SRC_LIB   := $(filter-out $(SRC_MAIN),$(SRC_ALL))
SRC_TEST  := $(sort $(wildcard tests/unit/*.c))
OBJ_LIB   := $(SRC_LIB:%.c=$(B)/%.o)
OBJ_MAIN  := $(SRC_MAIN:%.c=$(B)/%.o)
OBJ_TEST  := $(SRC_TEST:%.c=$(B)/%.o)
FUZZ_SRC  := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_NAMES := $(FUZZ_SRC:fuzz/fuzz_%.c=%)


.PHONY: all check e2e test fuzz fuzz-replay lint format format-check clean bench
all: $(B)/vigil

test:
	scripts/test.sh

$(B)/libvigil.a: $(OBJ_LIB)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/vigil: $(OBJ_MAIN) $(B)/libvigil.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/unit-tests: $(OBJ_TEST) $(B)/libvigil.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

check: $(B)/unit-tests
	$(B)/unit-tests --fork

e2e: $(B)/vigil
	VIGIL_BIN=$(abspath $(B)/vigil) python3 -m unittest discover -s tests/e2e -p 'test_*.py' -v

# Corpus replay: each fuzz target linked with a small driver that feeds it every corpus file.
$(B)/fuzz-replay/%: fuzz/fuzz_%.c fuzz/replay.c $(B)/libvigil.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ fuzz/fuzz_$*.c fuzz/replay.c $(B)/libvigil.a $(LDLIBS)

fuzz-replay: $(FUZZ_NAMES:%=$(B)/fuzz-replay/%)
	@set -e; for t in $(FUZZ_NAMES); do \
		$(B)/fuzz-replay/$$t fuzz/corpus/$$t; done

# libFuzzer builds (CC=clang): make fuzz; run with build/fuzz/<name> fuzz/corpus/<name>
fuzz:
	$(MAKE) BUILD=fuzz CC=clang SAN= fuzz-bins
fuzz-bins: $(FUZZ_NAMES:%=build/fuzz/bin/%)
build/fuzz/bin/%: fuzz/fuzz_%.c
	@mkdir -p $(@D)
	clang $(CPPFLAGS) -std=c17 -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $< $(SRC_LIB) $(LDLIBS)

# Benchmarks (release build; figures go to docs/BENCHMARKS.md by hand)
bench:
	$(MAKE) BUILD=release all
	bench/bench.py --vigil build/release/vigil

lint:
	tools/check-src.sh

format:
	clang-format -i $(SRC_ALL) $(wildcard src/*/*.h) $(SRC_TEST) tests/unit/test.h $(FUZZ_SRC)

format-check:
	clang-format --dry-run --Werror $(SRC_ALL) $(wildcard src/*/*.h) $(SRC_TEST) tests/unit/test.h $(FUZZ_SRC)

clean:
	rm -rf build

-include $(OBJ_LIB:.o=.d) $(OBJ_MAIN:.o=.d) $(OBJ_TEST:.o=.d)

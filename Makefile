# The two set-up commands (README): `make demo` and `make check`. Everything else is a helper.
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
REL    := build/rel
ASAN   := build/asan
TSAN   := build/tsan

.PHONY: all build web demo check check-long deps deps-check test docs deb format clean

all: build

deps:
	@scripts/deps.sh build

deps-check:
	@scripts/deps.sh check

# The web console bundle (web/dist/, committed; the server embeds it). Rebuilt from web/src/
# with the pinned npm packages; where npm cannot install, the committed bundle is used as is.
web:
	@scripts/web.sh build; rc=$$?; \
	if [ $$rc -eq 77 ]; then echo "note: web console not rebuilt (npm unavailable); using the committed web/dist/"; \
	elif [ $$rc -ne 0 ]; then exit $$rc; fi

build: deps web
	cmake -S . -B $(REL) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOC_WERROR=ON >/dev/null
	cmake --build $(REL) -j $(JOBS)

demo: build
	@scripts/demo.sh $(REL)/oncue

# The gate: the -O2 -Werror build, the server built with ThreadSanitizer under a minute of
# concurrent load (scripts/tsan-load.sh: no report), then the whole suite on the ASan+UBSan
# build (its CTest summary is the last thing printed).
check: deps-check
	cmake -S . -B $(REL) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOC_WERROR=ON >/dev/null
	cmake --build $(REL) -j $(JOBS)
	cmake -S . -B $(TSAN) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOC_TSAN=ON -DOC_WERROR=ON >/dev/null
	cmake --build $(TSAN) -j $(JOBS) --target oncue
	scripts/tsan-load.sh $(TSAN)/oncue
	cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DOC_SANITIZE=ON -DOC_WERROR=ON >/dev/null
	cmake --build $(ASAN) -j $(JOBS)
	cd $(ASAN) && ctest --output-on-failure -j $(JOBS) -LE long

# Hours of simulated traffic at scale (tests/long/), on the release build.
check-long: build
	cd $(REL) && ctest --output-on-failure -L long

test:
	cd $(ASAN) && ctest --output-on-failure -j $(JOBS) -LE long

# The Debian package (scripts/deb.sh): build/oncue_VERSION_ARCH.deb.
deb: build
	scripts/deb.sh $(REL) build

docs: build
	$(REL)/oncue docs config > docs/config.md
	$(REL)/oncue docs api > docs/api.md
	$(REL)/oncue docs cli > docs/cli.md
	$(REL)/oncue docs billing > docs/billing.md
	$(REL)/oncue docs events > docs/events.md

format:
	clang-format -i $$(git ls-files -co --exclude-standard -- 'src/*.[ch]' 'tests/*.[ch]' 'bench/*.[ch]')

clean:
	rm -rf build

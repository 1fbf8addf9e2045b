# Two commands for a newcomer: `make demo` and `make test`. Both install what is missing.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_PACKAGES := fonts-noto-cjk libharfbuzz-subset0 gettext chromium poppler-utils
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test bench lint system-packages deps messages fonts serve backup restore clean

# Debian packages: the CJK font for certificates, gettext for translations,
# Chromium for browser tests. Installed only when absent.
system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	touch $(STAMP)

deps: system-packages $(STAMP)

messages: deps
	$(BIN)/python manage.py compilemessages -v0 --ignore=.venv

fonts: deps
	$(BIN)/python -c "import django,os; os.environ.setdefault('DJANGO_SETTINGS_MODULE','config.settings'); django.setup(); from documents.fonts import ensure_fonts; ensure_fonts()"

# PUBLIC_BASE_URL: the address printed on certificates (QR code and URL) is the demo's own.
demo: deps messages fonts
	mkdir -p var
	$(BIN)/python manage.py migrate -v0
	$(BIN)/python manage.py trail_key --quiet
	$(BIN)/python manage.py document_signing_key --quiet
	PUBLIC_BASE_URL=http://$(HOST):$(PORT) $(BIN)/python manage.py load_demo --url http://$(HOST):$(PORT)/
	PUBLIC_BASE_URL=http://$(HOST):$(PORT) $(BIN)/python manage.py runserver $(HOST):$(PORT) --insecure

test: deps messages fonts
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: deps messages fonts
	$(BIN)/python bench/run.py

# The production server: gunicorn (config/gunicorn.conf.py) on $(HOST):$(PORT) with the
# settings of the environment (or .env), DJANGO_DEBUG off and DJANGO_SECURE on unless set
# to 0 (`make serve DJANGO_SECURE=0` tries it without TLS). Secure, `check --deploy` must pass.
serve: export DJANGO_DEBUG := 0
serve: export DJANGO_SECURE ?= 1
serve: deps messages fonts
	$(BIN)/python manage.py collectstatic --noinput -v0
	case "$$DJANGO_SECURE" in 0|false|False|no|off) ;; *) $(BIN)/python manage.py check --deploy --fail-level WARNING ;; esac
	exec $(BIN)/gunicorn --config config/gunicorn.conf.py --bind $(HOST):$(PORT) config.wsgi:application

# The database and every stored file, with SHA-256 sums, into BACKUP_DIR (var/backups).
backup: deps
	$(BIN)/python manage.py backup

# make restore BACKUP=var/backups/<timestamp> [FORCE=1]: into the configured database and
# storage (a new, empty database unless FORCE), then the trail is verified.
restore: deps
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=var/backups/<timestamp> [FORCE=1]"; exit 2; }
	$(BIN)/python manage.py restore "$(BACKUP)" $(if $(FORCE),--force)
	$(BIN)/python manage.py verify_trail

lint: deps
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf var/demo.sqlite3 var/static

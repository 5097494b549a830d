# syntax=docker/dockerfile:1

# The bandarchive image: every function binary of the route table
# (shared/routes), the worker with ffmpeg (listening copies, loudness,
# waveforms), and Nginx with the production config and the web UI, in one
# image. The command selects what a container runs:
#
#   docker build -t bandarchive:latest .
#   docker run ... bandarchive:latest send-link           # one function on :8080
#   docker run ... bandarchive:latest send-link migrate   # the migrate step
#   docker run ... bandarchive:latest worker              # the job queue's worker
#   docker run ... bandarchive:latest nginx -g 'daemon off;'
#   docker run ... bandarchive:latest uploads-admin       # the uploads volume's owner keeper
#
# It sits at the repository root because the IAC platform's CI builds
# ./Dockerfile with the context . for linux/amd64 and linux/arm64
# (.github/workflows/build-and-push.yml). The build stage runs on the
# builder's own platform and cross-compiles for the target's (static Go
# binaries need no emulation); only the runtime stage is per platform.
#
# One image rather than a functions image and an Nginx image, because the IAC
# platform deploys an app as one image pinned by digest (IMAGE=repo@sha256:...)
# and copies nothing but the compose file to the server: the Nginx config and
# web/ must come from that same image. A function can still be redeployed
# alone: the compose files give each one its own image variable.
#
# Functions and Nginx run as one unprivileged user (65532), so Nginx can send
# the recordings the functions store with owner-only permissions (files 0600
# or 0640, folders 0750) through X-Accel-Redirect. The compose files add a
# read-only root filesystem and drop every capability. The image's one root
# process is uploads-admin (scripts/uploads-admin.sh, a service of its own
# with CHOWN and DAC_READ_SEARCH only): it takes the platform's backups of
# the uploads volume and gives restored files back to 65532.

ARG GO_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=nginx:1.28-alpine

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
WORKDIR /src
ENV CGO_ENABLED=0
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY shared/ shared/
COPY functions/ functions/
# web/ too: the pages function (AWS only) compiles a copy of it in.
COPY web/ web/
ARG TARGETOS=linux
ARG TARGETARCH
# Static binaries, one per functions/<name>, named after the function:
# /out/send-link, /out/verify, ... (-tags lambda.norpc drops the Lambda RPC
# mode and its encoding/gob init; the same binaries serve both edges).
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -tags lambda.norpc -trimpath -ldflags='-s -w' -buildvcs=false -o /out/ ./functions/...

FROM ${RUNTIME_IMAGE} AS runtime
ARG APP_UID=65532
# The uploads directory is created here, owned by the app user, so that a
# new named volume mounted on it starts with that owner. Nginx writes only to
# /tmp, stdout and stderr (deploy/nginx/nginx.conf); its cache directory is
# handed over too, should a later config use the compiled-in temp paths.
# ffmpeg decodes and transcodes for the worker (Alpine's package: every
# decoder and the loudnorm filter).
RUN set -eux; \
    apk add --no-cache ffmpeg; \
    rm -f /etc/nginx/conf.d/default.conf; \
    rm -rf /usr/share/nginx/html; \
    mkdir -p /srv/bandarchive/web /srv/bandarchive/uploads; \
    chown -R "$APP_UID:$APP_UID" /srv/bandarchive/uploads /var/cache/nginx
COPY deploy/nginx/nginx.conf /etc/nginx/nginx.conf
COPY web/ /srv/bandarchive/web/
COPY --chmod=0755 scripts/uploads-admin.sh /usr/local/bin/uploads-admin
COPY --from=build /out/ /usr/local/bin/
USER 65532:65532
ENV PORT=8080
EXPOSE 8080
# The functions shut down gracefully on SIGTERM (the Nginx base image would
# send SIGQUIT, on which a Go program dumps its stacks and exits). The compose
# files give the nginx service SIGQUIT, Nginx's graceful stop.
STOPSIGNAL SIGTERM
ENTRYPOINT []
CMD ["send-link"]

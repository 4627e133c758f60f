"""The HTTP front of the embedded API server: an ASGI application served by uvicorn.

It does what kube-apiserver's handler chain does before storage: authentication, request info
(``requestinfo.go``), content negotiation, body decoding with size limits, and then hands one verb to
the generic registry. Errors leave as ``Status`` objects; unknown paths get Go's plain-text 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import orjson
import yaml

from kubeproof.server import discovery, errors, fieldvalidation, table
from kubeproof.server.auth import AuthChain, PlainError, RequestAuth, Reviews
from kubeproof.server.auth.user import requesting_user
from kubeproof.server.decoding import check_string_maps, go_json_type
from kubeproof.server.negotiation import SERVED_MEDIA_TYPES, Negotiated, negotiate
from kubeproof.server.options import (
    Query,
    first,
    parse_delete_options,
    parse_dry_run,
    parse_list_options,
)
from kubeproof.server.patch import (
    APPLY_PATCH,
    BUILTIN_PATCH_TYPES,
    CUSTOM_PATCH_TYPES,
    JSON_PATCH,
    STRATEGIC_MERGE_PATCH,
    apply_json_patch,
    decode_object_patch,
    merge_patch,
)
from kubeproof.server.registry.base import Obj, ResourceType
from kubeproof.server.registry.generic import JOB_ORPHAN_WARNING, ManageFields, Registry, deep_copy
from kubeproof.server.scale import ScaleStorage, scale_type, serves_scale
from kubeproof.server.typecheck import check_patched_types, check_types
from kubeproof.server.watch import WRITE_CHUNK, WatchHooks, WatchStream

log = logging.getLogger("kubeproof.server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
ASGISend = Callable[[Message], Awaitable[None]]

#: kube-apiserver's ``MaxRequestBodyBytes`` default (3 MiB).
MAX_BODY_BYTES = 3 * 1024 * 1024
#: Go's ``http.DefaultMaxHeaderBytes`` (kube-apiserver's ``MaxHeaderBytes``) plus the slack net/http allows.
MAX_HEADER_BYTES = (1 << 20) + 4096
NAMESPACE_SUBRESOURCES = {"status", "finalize"}
HEALTH_PATHS = ("/healthz", "/livez", "/readyz")
HEALTH_PREFIXES = tuple(p + "/" for p in HEALTH_PATHS)
AGGREGATED = ("APIGroupDiscoveryList", "apidiscovery.k8s.io", "v2")
AGGREGATED_TRANSFORMS = frozenset({AGGREGATED})
INPUT_MEDIA_TYPES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]


class PlainNotFound(Exception):
    """Go's ``http.NotFound``: the path is served by nothing."""


@dataclass
class Request:
    method: str
    path: str
    query: Query
    headers: dict[str, str]
    receive: Receive
    body: bytes = b""
    user: str = ""
    groups: list[str] = field(default_factory=list)
    #: The headers as sent (repeated ones kept: ``Impersonate-Group`` may come several times).
    raw_headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    #: Who the request is, once authenticated and impersonated (server/auth).
    auth: RequestAuth | None = None
    #: Whether it came over TLS (only then can it carry a client certificate).
    tls: bool = False
    #: Writes a streamed body chunk at once, when the server offers it (server/protocol.py).
    write_chunk: Callable[[bytes], bool] | None = None

    def header(self, name: str) -> str:
        return self.headers.get(name, "")


@dataclass
class ResourceRequest:
    """``RequestInfo`` for a resource path."""

    rt: ResourceType
    namespace: str | None
    name: str
    subresource: str
    verb: str


class APIServer:
    """The ASGI application. ``registry`` holds all state; the rest is protocol."""

    def __init__(
        self,
        registry: Registry,
        token: str | None = None,
        allow_anonymous: bool = False,
        watch_hooks: WatchHooks | None = None,
    ) -> None:
        self.registry = registry
        self.token = token
        self.allow_anonymous = allow_anonymous
        self.watch_hooks = watch_hooks or WatchHooks()
        self.server_address = "127.0.0.1:0"
        #: Streams currently open (watches and followed logs); shutdown ends them.
        self.open_streams: set[asyncio.Event] = set()
        self.request_count = 0
        #: Serves pods/log (``server/podlogs.LogSource``: the process runtime); None: every log is empty.
        self.pod_logs: Any = None
        #: Authentication, impersonation and RBAC (server/auth); ``token`` is the static admin token.
        self.auth = AuthChain(registry, token)
        #: Create-only endpoints answered without storage (access reviews, TokenRequest), by (resource key,
        #: subresource).
        self.create_handlers: dict[tuple[str, str], Any] = Reviews(registry, self.auth).handlers()

    # -- ASGI ------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: ASGISend) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        self.request_count += 1
        raw_headers = scope["headers"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw_headers}
        raw_query = scope.get("query_string", b"")
        request = Request(
            method=scope["method"],
            path=scope["path"],
            query=parse_qs(raw_query.decode("latin-1"), keep_blank_values=True) if raw_query else {},
            headers=headers,
            receive=receive,
            raw_headers=raw_headers,
            tls=scope.get("scheme") == "https",
            write_chunk=scope.get("extensions", {}).get(WRITE_CHUNK, {}).get("write"),
        )
        responder = Responder(send, request)
        if header_bytes(scope) > MAX_HEADER_BYTES:
            # Go's net/http refuses the request before any handler runs.
            await responder.plain(431, b"431 Request Header Fields Too Large")
            return
        try:
            await self.handle(request, responder)
        except errors.StatusError as exc:
            await responder.status_error(exc)
        except PlainNotFound:
            await responder.plain(404, b"404 page not found\n")
        except PlainError as exc:
            await responder.plain(exc.code, exc.body.encode())
        except Exception as exc:  # a bug must answer as the apiserver would, never as a traceback
            log.error("internal error on %s %s:\n%s", request.method, request.path, traceback.format_exc())
            await responder.status_error(errors.internal_error(exc))

    # -- dispatch --------------------------------------------------------------------------------

    def authenticate(self, request: Request) -> None:
        """Authentication, impersonation and authorization (server/auth), before any routing: 401, or 403
        with the apiserver's message, for every path."""
        request.auth = self.auth.check(
            request.method, request.path, request.query, request.headers, request.raw_headers,
            peer_certificate(request.receive) if request.tls else None, self.token is None or self.allow_anonymous,
        )
        request.user, request.groups = request.auth.user.name, list(request.auth.user.groups)
        requesting_user.set(request.auth.user)  # the request's task has its own context

    async def handle(self, request: Request, out: Responder) -> None:
        path = request.path
        if len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/")
        self.authenticate(request)
        if path in HEALTH_PATHS or path.startswith(HEALTH_PREFIXES):
            await out.plain(200, b"ok")
            return
        if path == "/version":
            await out.object(200, discovery.version_info())
            return
        if path == "/" or path == "/index.html":
            # The IndexLister answers with responsewriters.WriteRawJSON: indented, no trailing newline.
            body = orjson.dumps(discovery.root_paths(self.registry), option=orjson.OPT_INDENT_2)
            await out.raw(200, body, "application/json")
            return
        if path == "/api" or path == "/apis":
            await self.discovery_root(request, out, core=path == "/api")
            return
        if path == "/openapi/v2" or path == "/openapi/v3" or path.startswith("/openapi/v3/"):
            from kubeproof.server import openapi

            answer = openapi.document(self.registry, path, dict(request.query), request.header("accept"))
            if answer is None:
                raise PlainNotFound
            code, body, content_type, *extra = answer
            await out.raw(code, body, content_type, extra[0] if extra else None)
            return
        # The ASGI path is already percent-decoded once, as Go's URL.Path (decoding again would read
        # "%2541" as "A").
        parts = path.split("/")[1:]
        if not parts:
            raise PlainNotFound  # "//" and the like: nothing left once the trailing slashes go
        if parts[0] == "api":
            if len(parts) < 2 or parts[1] != "v1":
                raise PlainNotFound
            group, version, rest = "", "v1", parts[2:]
        elif parts[0] == "apis" and len(parts) >= 2:
            group = parts[1]
            if len(parts) == 2:
                doc = discovery.api_group(self.registry, group)
                if doc is None:
                    raise PlainNotFound
                self.negotiate_discovery(request, out)
                await out.object(200, doc)
                return
            version, rest = parts[2], parts[3:]
        else:
            raise PlainNotFound
        if not rest:
            doc = discovery.api_resource_list(self.registry, group, version)
            if doc is None:
                raise PlainNotFound
            self.negotiate_discovery(request, out)
            await out.object(200, doc)
            return
        info = self.request_info(request, group, version, rest)
        await self.serve_resource(request, out, info)

    async def discovery_root(self, request: Request, out: Responder, core: bool) -> None:
        if request.method != "GET":
            raise errors.method_not_supported("", "", request.method.lower())
        negotiated = negotiate(request.header("accept"), AGGREGATED_TRANSFORMS)
        if negotiated is None:
            raise errors.not_acceptable(["application/json", "application/yaml"])
        if negotiated.transform == "APIGroupDiscoveryList":
            doc = discovery.aggregated(self.registry, core)
            await out.object(200, doc, content_type=discovery.AGGREGATED_CONTENT_TYPE)
        elif core:
            out.format = negotiated.format
            await out.object(200, discovery.api_versions(self.server_address))
        else:
            out.format = negotiated.format
            await out.object(200, discovery.api_group_list(self.registry))

    def negotiate_discovery(self, request: Request, out: Responder) -> None:
        """Legacy discovery documents are served in JSON or YAML, as Accept asks (406 when neither)."""
        negotiated = negotiate(request.header("accept"))
        if negotiated is None:
            raise errors.not_acceptable(SERVED_MEDIA_TYPES)
        out.format = negotiated.format

    def request_info(self, request: Request, group: str, version: str, parts: list[str]) -> ResourceRequest:
        """``RequestInfoFactory.NewRequestInfo`` for the part after ``/api/v1`` or ``/apis/g/v``."""
        force_watch = False
        if parts[0] == "watch":
            force_watch, parts = True, parts[1:]
            if not parts:
                raise PlainNotFound
        namespace: str | None = None
        if parts[0] == "namespaces" and len(parts) > 2 and parts[2] not in NAMESPACE_SUBRESOURCES:
            namespace, parts = parts[1], parts[2:]
        plural = parts[0]
        name = parts[1] if len(parts) > 1 else ""
        subresource = parts[2] if len(parts) > 2 else ""
        if len(parts) > 3:
            raise PlainNotFound
        rt = self.registry.lookup(group, version, plural)
        if rt is None:
            raise PlainNotFound
        if rt.namespaced and namespace is None and name:
            raise PlainNotFound  # namespaced items live only under /namespaces/{ns}/
        if not rt.namespaced and namespace is not None:
            raise PlainNotFound
        if subresource and subresource not in rt.subresources:
            raise PlainNotFound
        if namespace == "":
            raise PlainNotFound
        method = request.method
        if method == "GET" or method == "HEAD":
            watch_param = first(request.query, "watch")
            is_watch = force_watch or (watch_param is not None and watch_param not in ("false", "0"))
            verb = "watch" if is_watch else ("get" if name else "list")
        elif method == "POST":
            verb = "create"
        elif method == "PUT":
            verb = "update"
        elif method == "PATCH":
            verb = "patch"
        elif method == "DELETE":
            verb = "delete" if name else "deletecollection"
        else:
            raise errors.method_not_supported(rt.plural, rt.group, method.lower())
        if (not name and verb in ("update", "patch")) or (name and verb == "create" and not subresource):
            raise errors.StatusError(
                405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
            )
        return ResourceRequest(rt, namespace, name, subresource, verb)

    # -- resources -------------------------------------------------------------------------------

    async def serve_resource(self, request: Request, out: Responder, info: ResourceRequest) -> None:
        rt, verb = info.rt, info.verb
        allowed = rt.subresources[info.subresource].verbs if info.subresource else rt.verbs
        if verb not in allowed and not (verb == "watch" and info.name and "watch" in rt.verbs):
            raise errors.method_not_supported(rt.plural, rt.group, verb)
        if info.subresource == "log" and rt.key == "pods":
            from kubeproof.server import podlogs  # plain text, not an object: no content negotiation

            await podlogs.serve(self, request, out, info)
            return
        # get, list and watch also answer as a Table or PartialObjectMetadata[List] (server/table.py).
        transforms = table.TRANSFORMS if verb in ("get", "list", "watch") else None
        negotiated = negotiate(request.header("accept"), transforms)
        if negotiated is None:
            raise errors.not_acceptable(SERVED_MEDIA_TYPES)
        out.format = negotiated.format
        # Custom resources of other served versions leave with the apiVersion of the request (server/crd).
        if info.subresource in ("", "status"):
            out.convert = getattr(rt.strategy, "convert_out", None)
        registry = self.registry
        store = self.storage(info)
        namespace = info.namespace or ""
        if verb == "get":
            found = store.get(rt, namespace, info.name)
            await out.object(200, table.transform_object(rt, found, negotiated, request.query))
        elif verb == "list":
            await self.list(request, out, info, negotiated)
        elif verb == "watch":
            await self.watch(request, out, info, negotiated)
        elif verb == "create" and (rt.key, info.subresource) in self.create_handlers:
            raw_body = await self.read_body(request)
            data = self.decode(request, raw_body, fieldvalidation.body_kind(rt, info.subresource)[2])
            assert request.auth is not None
            code, answer = self.create_handlers[(rt.key, info.subresource)](
                request.auth.user, namespace, info.name, data if isinstance(data, dict) else {})
            await out.object(code, answer)
        elif verb == "create":
            mode = fieldvalidation.directive(request.query, "CreateOptions")
            body = await self.read_object(request, rt)
            dry_run = parse_dry_run(request.query.get("dryRun"), "CreateOptions")
            body, warnings = self.check_fields(request, info, body, mode)
            manage = self.field_manager(request, info, "CreateOptions")
            created = registry.create(rt, namespace, body, dry_run=dry_run, manage=manage)
            await out.object(201, created, headers=fieldvalidation.warning_headers(warnings))
        elif verb == "update":
            mode = fieldvalidation.directive(request.query, "UpdateOptions")
            body = await self.read_object(request, store.rt if isinstance(store, ScaleStorage) else rt)
            dry_run = parse_dry_run(request.query.get("dryRun"), "UpdateOptions")
            body, warnings = self.check_fields(request, info, body, mode)
            manage = self.field_manager(request, info, "UpdateOptions")
            updated = store.update(rt, namespace, info.name, body, subresource=info.subresource, dry_run=dry_run,
                                   manage=manage)
            await out.object(200, updated, headers=fieldvalidation.warning_headers(warnings))
        elif verb == "patch":
            await self.patch(request, out, info)
        elif verb == "delete":
            raw = await self.read_body(request)
            options_body = self.decode(request, raw, "DeleteOptions") if raw.strip() else None
            opts = parse_delete_options(options_body, request.query)
            result = registry.delete(rt, namespace, info.name, opts)
            # Jobs orphan their pods by default, and kube-apiserver says so (batch/job/storage).
            orphaning = rt.key == "jobs.batch" and opts.propagation_policy is None and opts.orphan_dependents is None
            headers = fieldvalidation.warning_headers([JOB_ORPHAN_WARNING] if orphaning else [])
            if result.deleted and not rt.strategy.return_deleted_object:
                await out.object(200, registry.success_status(rt, result.obj), headers=headers)
            else:
                code = 202 if not result.deleted and opts.orphan_dependents is False else 200
                await out.object(code, result.obj, headers=headers)
        elif verb == "deletecollection":
            raw = await self.read_body(request)
            options_body = self.decode(request, raw, "DeleteOptions") if raw.strip() else None
            opts = parse_delete_options(options_body, request.query)
            list_opts = parse_list_options(request.query, watch=False)
            deleted = registry.delete_collection(rt, info.namespace, list_opts, opts)
            meta: dict[str, Any] = {"resourceVersion": str(deleted.resource_version)}
            if deleted.continue_token:
                meta["continue"] = deleted.continue_token
            await out.object(200, self.list_body(rt, deleted.items, meta))

    def list_body(self, rt: ResourceType, items: list[Obj], meta: dict[str, Any]) -> Obj:
        if not rt.typed_list_items:
            items = [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in items]
        return {"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": meta, "items": items}

    async def list(self, request: Request, out: Responder, info: ResourceRequest,
                   negotiated: Negotiated | None = None) -> None:
        opts = parse_list_options(request.query, watch=False, name=info.name)
        result = self.registry.list(info.rt, info.namespace, opts)
        meta: dict[str, Any] = {"resourceVersion": str(result.resource_version)}
        if result.continue_token:
            meta["continue"] = result.continue_token
        if result.remaining is not None:
            meta["remainingItemCount"] = result.remaining
        if negotiated is not None and negotiated.transform:
            transformed = table.transform_list(info.rt, result.items, meta, negotiated, request.query)
            if transformed is not None:
                await out.object(200, transformed)
                return
        await out.object(200, self.list_body(info.rt, result.items, meta))

    async def watch(self, request: Request, out: Responder, info: ResourceRequest, negotiated: Negotiated) -> None:
        opts = parse_list_options(request.query, watch=True, name=info.name)
        encoder = table.watch_encoder(info.rt, negotiated, request.query)  # 400 before the stream starts
        if hasattr(info.rt.strategy, "wrap_encoder"):
            encoder = info.rt.strategy.wrap_encoder(encoder)  # custom resources: apiVersion of the request
        if info.rt.stored_as is not None:
            encoder = converting_encoder(encoder, info.rt)  # events.k8s.io/v1 Events are stored as core/v1
        stream = WatchStream(self.registry, info.rt, info.namespace, opts, self.watch_hooks, encode=encoder)
        async with self.streaming(request, out, "application/json") as disconnected:

            async def send(data: bytes) -> None:
                if not disconnected.is_set():
                    await out.chunk(data)

            await stream.run(send, disconnected, request.write_chunk)

    @contextlib.asynccontextmanager
    async def streaming(self, request: Request, out: Responder, content_type: str,
                        gone: asyncio.Event | None = None) -> AsyncIterator[asyncio.Event]:
        """A chunked 200 response (watches, followed logs). The event it yields (``gone``, or a new one) is
        set when the client disconnects or ``Cluster.stop`` ends the open streams; the response is ended
        either way."""
        gone = gone or asyncio.Event()
        self.open_streams.add(gone)

        async def wait_disconnect() -> None:
            while (await request.receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.ensure_future(wait_disconnect())
        try:
            await out.start_stream(200, content_type)
            yield gone
        except OSError:
            pass  # the client went away mid-write
        finally:
            watcher.cancel()
            self.open_streams.discard(gone)
            await out.end_stream()

    async def patch(self, request: Request, out: Responder, info: ResourceRequest) -> None:
        rt = info.rt
        content_type = request.header("content-type").split(";")[0].strip().lower()
        accepted = CUSTOM_PATCH_TYPES if rt.typed_list_items else BUILTIN_PATCH_TYPES
        if content_type not in accepted:
            raise errors.unsupported_media_type(accepted)
        if content_type == APPLY_PATCH:
            await self.apply(request, out, info)
            return
        force = first(request.query, "force")
        if force is not None:
            from kubeproof.server.validation.field import forbidden

            error = forbidden("force", "may not be specified for non-apply patch")
            raise errors.invalid_options("PatchOptions", [error])
        dry_run = parse_dry_run(request.query.get("dryRun"), "PatchOptions")
        mode = fieldvalidation.directive(request.query, "PatchOptions")
        body = await self.read_body(request)
        namespace = info.namespace or ""
        store = self.storage(info)
        current = store.get(rt, namespace, info.name)
        original = deep_copy(current)
        if content_type == JSON_PATCH:
            patched = apply_json_patch(original, body)
        else:
            patch = decode_object_patch(body)
            if content_type == STRATEGIC_MERGE_PATCH:
                from kubeproof.server import schema
                from kubeproof.server.patch.strategic import strategic_merge_patch

                kind_schema = schema.schema_for(rt.group, rt.version, rt.kind)
                patched = strategic_merge_patch(original, patch, kind_schema)
            else:
                patched = merge_patch(original, patch)
        meta = patched.get("metadata")
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        # Strict decoding of the patched object (handlers/patch.go): 422 on Strict, warnings on Warn.
        strict_patch = content_type == STRATEGIC_MERGE_PATCH
        unpruned = patched
        check_patched_types(
            *self.body_gvk(info, current), patched,
            lambda: (fieldvalidation.go_map_repr(orjson.loads(body)) if strict_patch
                     else fieldvalidation.patch_value_json(unpruned)),
            strategic=strict_patch,
        )
        check_string_maps(rt, patched)
        patched, warnings = fieldvalidation.check_patched(
            *self.body_gvk(info, current), patched, mode, current=current, custom=self.custom_schema(info, current),
            patch_errors=fieldvalidation.patch_body_errors(content_type, body, mode),
            patch_value=lambda: (fieldvalidation.go_map_repr(orjson.loads(body)) if strict_patch
                                 else fieldvalidation.patch_value_json(unpruned)),
        )
        meta = patched["metadata"]
        if meta.get("resourceVersion") is None:
            # Without a resourceVersion in the patch, it applies to the latest object (no 409).
            meta["resourceVersion"] = current["metadata"].get("resourceVersion")
        updated = store.update(
            rt, namespace, info.name, patched, subresource=info.subresource, dry_run=dry_run,
            manage=self.field_manager(request, info, "PatchOptions"),
        )
        await out.object(200, updated, headers=fieldvalidation.warning_headers(warnings))

    async def apply(self, request: Request, out: Responder, info: ResourceRequest) -> None:
        """Server-side apply (server/patch/apply.py): 201 when it creates the object, else 200."""
        from kubeproof.server.patch.apply import apply_patch, patch_options

        patch_options(request.query)  # 422 on bad options, before the body is read
        body = await self.read_body(request)
        store = self.storage(info)
        if isinstance(store, ScaleStorage):
            await out.object(200, store.apply(info.namespace or "", info.name, request.query, body))
            return
        code, obj = apply_patch(self.registry, info.rt, info.namespace or "", info.name, info.subresource,
                                request.query, body)
        await out.object(code, obj)

    def field_manager(self, request: Request, info: ResourceRequest, options_kind: str) -> ManageFields:
        """Records the writer in managedFields: ``fieldManager``, or the User-Agent up to its first ``/``."""
        from kubeproof.server import managedfields

        manager = first(request.query, "fieldManager") or ""
        problems = managedfields.field_manager_errors(manager)
        if problems:
            raise errors.invalid_options(options_kind, problems)
        if not manager:
            manager = managedfields.manager_from_user_agent(request.header("user-agent"))
        rt = scale_type(info.rt) if serves_scale(info.rt, info.subresource) else info.rt
        return managedfields.update_hook(rt, info.subresource, manager, self.registry.clock)

    def storage(self, info: ResourceRequest) -> Registry | ScaleStorage:
        """Where reads and writes of this request go: the registry, or ``ScaleREST`` for ``/scale``."""
        if serves_scale(info.rt, info.subresource):
            return ScaleStorage(self.registry, info.rt)
        if info.subresource == "scale" and info.rt.typed_list_items:
            from kubeproof.server.crd.scale import CustomScaleStorage

            return CustomScaleStorage(self.registry, info.rt)
        return self.registry

    def body_gvk(self, info: ResourceRequest, obj: Obj | None = None) -> tuple[str, str, str]:
        """The kind a body of this request decodes into (the subresource's kind when the body is one)."""
        group, version, kind = fieldvalidation.body_kind(info.rt, info.subresource)
        if obj is not None and obj.get("kind") not in (None, kind):
            return info.rt.group, info.rt.version, info.rt.kind
        return group, version, kind

    def check_fields(self, request: Request, info: ResourceRequest, body: Obj,
                     mode: str) -> tuple[Obj, fieldvalidation.Warnings]:
        """Field validation of a create/update body (server/fieldvalidation.py): pruned body and warnings."""
        return fieldvalidation.check_body(
            *self.body_gvk(info, body), body, mode, raw=request.body, content_type=request.header("content-type"),
            custom=self.custom_schema(info, body),
        )

    def custom_schema(self, info: ResourceRequest, obj: Obj) -> dict[str, Any] | None:
        """The pruning schema of a custom resource body, from this cluster's CRD (None for built-ins)."""
        if self.body_gvk(info, obj) != (info.rt.group, info.rt.version, info.rt.kind):
            return None  # a subresource's own kind (Scale)
        schema: dict[str, Any] | None = getattr(info.rt.strategy, "pruning_schema", None)
        return schema

    # -- bodies ----------------------------------------------------------------------------------

    async def read_body(self, request: Request) -> bytes:
        length = request.header("content-length")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            await self._drain(request)
            raise errors.request_entity_too_large(f"limit is {MAX_BODY_BYTES}")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                await self._drain(request)
                raise errors.request_entity_too_large(f"limit is {MAX_BODY_BYTES}")
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        request.body = b"".join(chunks)
        return request.body

    async def _drain(self, request: Request) -> None:
        """Read and drop the rest of an oversized body so the connection stays usable."""
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                return

    def decode(self, request: Request, body: bytes, kind: str) -> Any:
        content_type = request.header("content-type").split(";")[0].strip().lower()
        if content_type in ("", "application/json", "*/*"):
            try:
                return orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                try:
                    # Go's decoder turns invalid UTF-8 inside strings into U+FFFD instead of failing.
                    return orjson.loads(body.decode("utf-8", "replace"))
                except orjson.JSONDecodeError:
                    raise errors.bad_request(decode_error_message(kind, body, str(exc))) from None
        if content_type in ("application/yaml", "application/x-yaml", "text/yaml"):
            try:
                return yaml_to_json(yaml.safe_load(body))
            except RecursionError:
                raise errors.bad_request(decode_error_message(kind, body, "yaml: exceeded max depth")) from None
            except yaml.YAMLError as exc:
                raise errors.bad_request(decode_error_message(kind, body, str(exc).replace("\n", " "))) from None
        if content_type == "application/vnd.kubernetes.protobuf":
            from kubeproof.server.protobuf import decode_protobuf_body

            return decode_protobuf_body(body, kind)
        raise errors.unsupported_media_type(INPUT_MEDIA_TYPES)

    async def read_object(self, request: Request, rt: ResourceType) -> Obj:
        body = await self.read_body(request)
        data = self.decode(request, body, rt.kind)
        if not isinstance(data, dict):
            raise errors.bad_request(
                decode_error_message(rt.kind, body, "couldn't get version/kind; json parse error: "
                                     f"json: cannot unmarshal {go_json_type(data)} into Go value of type "
                                     "struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; "
                                     "Kind string \"json:\\\"kind,omitempty\\\"\" }")
            )
        check_type_meta(rt, data)
        meta = data.get("metadata")
        if meta is not None and not isinstance(meta, dict):
            raise errors.bad_request(
                f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: json: cannot unmarshal '
                f"{go_json_type(meta)} into Go struct field {rt.kind}.metadata of type v1.ObjectMeta"
            )
        if meta:
            check_metadata_types(rt, meta)
        check_string_maps(rt, data)
        check_types(rt, data)
        return data


def converting_encoder(encode: Callable[[str, Obj], bytes], rt: ResourceType) -> Callable[[str, Obj], bytes]:
    """A watch encoder for a resource with ``stored_as``: stored objects leave in the request's shape."""
    def converted(event_type: str, obj: Obj) -> bytes:
        return encode(event_type, Registry.from_storage(rt, obj))

    return converted


def peer_certificate(receive: Receive) -> dict[str, Any] | None:
    """The verified TLS client certificate, if any. uvicorn puts no TLS data in the ASGI scope, so it is
    read from the connection's transport, which its ``receive`` is bound to."""
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    if ssl_object is None:
        return None
    cert = ssl_object.getpeercert()
    return cert or None


def header_bytes(scope: Scope) -> int:
    """The size of the request line and headers, as Go's MaxHeaderBytes counts them (roughly)."""
    line = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"") + 16
    headers = scope["headers"]
    return line + 4 * len(headers) + sum(len(name) + len(value) for name, value in headers)


#: Nodes a YAML document may expand to through aliases (go-yaml refuses "excessive aliasing" too).
MAX_YAML_NODES = 1_000_000


def yaml_to_json(value: Any) -> Any:
    """``sigs.k8s.io/yaml.YAMLToJSON``: non-string keys become strings; alias bombs are refused."""
    sizes: dict[int, int] = {}

    def size(node: Any) -> int:
        if not isinstance(node, dict | list):
            return 1
        known = sizes.get(id(node))
        if known == 0:
            raise yaml.YAMLError("yaml: anchor value contains itself")
        if known is None:
            sizes[id(node)] = 0  # in progress: meeting it again below means a cycle
            children = node.values() if isinstance(node, dict) else node
            known = sizes[id(node)] = 1 + sum(size(child) for child in children)
        return known

    if size(value) > MAX_YAML_NODES:
        raise yaml.YAMLError("yaml: document contains excessive aliasing")

    def key(k: Any) -> str:
        if isinstance(k, bool):
            return "true" if k else "false"
        return "null" if k is None else str(k)

    def convert(node: Any) -> Any:
        if isinstance(node, dict):
            return {k if isinstance(k, str) else key(k): convert(v) for k, v in node.items()}
        if isinstance(node, list):
            return [convert(v) for v in node]
        return node

    return convert(value)


def decode_error_message(kind: str, body: bytes, why: str) -> str:
    """``transformDecodeError`` for a body whose kind cannot be read."""
    summary = body[:30].decode("utf-8", "replace")
    if len(body) > 30:
        summary += " ..."
    return f"the object provided is unrecognized (must be of type {kind}): {why} ({summary})"


def check_type_meta(rt: ResourceType, data: Obj) -> None:
    kind, api_version = data.get("kind"), data.get("apiVersion")
    if (kind is not None and not isinstance(kind, str)) or (
        api_version is not None and not isinstance(api_version, str)
    ):
        raise errors.bad_request(
            f"the object provided is unrecognized (must be of type {rt.kind}): couldn't get version/kind; "
            "json parse error: json: cannot unmarshal into Go struct field .kind of type string"
        )
    if api_version and api_version != rt.api_version:
        raise errors.bad_request(
            f"the API version in the data ({api_version}) does not match the expected API version ({rt.api_version})"
        )
    if kind and kind != rt.kind:
        version = rt.version
        raise errors.bad_request(
            f'{kind} in version "{version}" cannot be handled as a {rt.kind}: converting (v1.{kind}) to '
            f"({rt.kind}): unknown conversion"
        )


_META_STRINGS = ("name", "generateName", "namespace", "uid", "resourceVersion")


def check_metadata_types(rt: ResourceType, meta: dict[str, Any]) -> None:
    """The JSON type errors Go's decoder reports for ObjectMeta (the fields clients get wrong)."""
    def fail(field: str, value: Any, go_type: str) -> errors.StatusError:
        return errors.bad_request(
            f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: json: cannot unmarshal '
            f"{go_json_type(value)} into Go struct field ObjectMeta.metadata.{field} of type {go_type}"
        )

    for name in _META_STRINGS:
        value = meta.get(name)
        if value is not None and not isinstance(value, str):
            raise fail(name, value, "string")
    for name in ("labels", "annotations"):
        value = meta.get(name)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise fail(name, value, "map[string]string")
        for item in value.values():
            if item is not None and not isinstance(item, str):
                raise fail(name, item, "string")
    finalizers = meta.get("finalizers")
    if finalizers is not None:
        if not isinstance(finalizers, list):
            raise fail("finalizers", finalizers, "[]string")
        for item in finalizers:
            if not isinstance(item, str):
                raise fail("finalizers", item, "string")
    owners = meta.get("ownerReferences")
    if owners is not None and not (isinstance(owners, list) and all(isinstance(o, dict) for o in owners)):
        raise fail("ownerReferences", owners, "[]v1.OwnerReference")


NO_CACHE = (b"cache-control", b"no-cache, private")


@functools.lru_cache(maxsize=64)
def _media_type_bytes(content_type: str) -> bytes:
    return content_type.encode()


class Responder:
    """Writes responses: objects as JSON (or YAML), Status errors, plain text, and chunked streams."""

    def __init__(self, send: ASGISend, request: Request) -> None:
        self.send = send
        self.request = request
        self.format = "json"
        self.started = False
        #: Rewrites a response object before it is encoded (custom resources' apiVersion), or None.
        self.convert: Callable[[Any], Any] | None = None

    def encode(self, obj: Any) -> tuple[bytes, str]:
        if self.format == "yaml":
            return yaml.safe_dump(obj, sort_keys=False).encode(), "application/yaml"
        pretty = self.request.query.get("pretty", [""])[0] in ("true", "1")
        data = orjson.dumps(obj, option=orjson.OPT_INDENT_2) if pretty else orjson.dumps(obj)
        return data + b"\n", "application/json"

    async def object(self, code: int, obj: Any, content_type: str | None = None,
                     headers: Mapping[str, str | list[str]] | None = None) -> None:
        if self.convert is not None:
            obj = self.convert(obj)
        body, ctype = self.encode(obj)
        await self.raw(code, body, content_type or ctype, headers)

    async def raw(self, code: int, body: bytes, content_type: str,
                  headers: Mapping[str, str | list[str]] | None = None) -> None:
        if self.started:
            return
        self.started = True
        extra = {key.lower(): value for key, value in headers.items()} if headers else {}
        hdrs = [(b"content-type", _media_type_bytes(content_type))] if content_type else []
        hdrs.append((b"content-length", b"%d" % len(body)))
        if "cache-control" not in extra:
            hdrs.append(NO_CACHE)
        for key, value in extra.items():
            # A list sends one header line per value (Warning headers: one per warning, as Go's Header.Add).
            for item in value if isinstance(value, list) else [value]:
                hdrs.append((key.encode(), item.encode()))
        await self.send({"type": "http.response.start", "status": code, "headers": hdrs})
        await self.send({"type": "http.response.body", "body": body if self.request.method != "HEAD" else b""})

    async def plain(self, code: int, body: bytes) -> None:
        await self.raw(code, body, "text/plain; charset=utf-8", {"x-content-type-options": "nosniff"})

    async def status_error(self, exc: errors.StatusError) -> None:
        if self.started:
            return
        self.format = "json" if self.format not in ("json", "yaml") else self.format
        await self.object(exc.code, exc.status(), headers=exc.headers)

    async def start_stream(self, code: int, content_type: str) -> None:
        self.started = True
        hdrs = [(b"content-type", content_type.encode()), (b"cache-control", b"no-cache, private")]
        await self.send({"type": "http.response.start", "status": code, "headers": hdrs})
        # Headers go out before any event, as kube-apiserver flushes them at once.
        await self.send({"type": "http.response.body", "body": b"", "more_body": True})

    async def chunk(self, data: bytes) -> None:
        await self.send({"type": "http.response.body", "body": data, "more_body": True})

    async def end_stream(self) -> None:
        try:
            await self.send({"type": "http.response.body", "body": b"", "more_body": False})
        except Exception:
            pass  # the connection is already gone



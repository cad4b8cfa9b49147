{{- define "streamspace.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "streamspace.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "streamspace.labels" -}}
app.kubernetes.io/name: {{ include "streamspace.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "streamspace.selectorLabels" -}}
app.kubernetes.io/name: {{ include "streamspace.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end -}}

{{- define "streamspace.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "streamspace.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Where sessions run: sessionNamespace (deprecated), else sessions.namespace, else "<release>-sessions". */}}
{{- define "streamspace.sessionNamespace" -}}
{{- if .Values.sessionNamespace -}}
{{- .Values.sessionNamespace -}}
{{- else -}}
{{- default (printf "%s-sessions" .Release.Name | trunc 63 | trimSuffix "-") .Values.sessions.namespace -}}
{{- end -}}
{{- end -}}

{{/* "true" when sessions have a namespace of their own (not the release's). */}}
{{- define "streamspace.dedicatedSessionNamespace" -}}
{{- if ne (include "streamspace.sessionNamespace" .) .Release.Namespace -}}true{{- end -}}
{{- end -}}

{{- define "streamspace.externalDatabase" -}}
{{- if or .Values.database.url .Values.database.existingSecret -}}true{{- end -}}
{{- end -}}

{{/* Cross-field rules the JSON schema cannot express. */}}
{{- define "streamspace.validate" -}}
{{- if and .Values.auth.oidc.enabled (or (not .Values.auth.oidc.issuer) (not .Values.auth.oidc.clientId)) -}}
{{- fail "auth.oidc.enabled needs auth.oidc.issuer and auth.oidc.clientId" -}}
{{- end -}}
{{- if and .Values.auth.oidc.enabled (not .Values.auth.oidc.clientSecret) (not .Values.auth.oidc.existingSecret) -}}
{{- fail "auth.oidc.enabled needs auth.oidc.clientSecret or auth.oidc.existingSecret" -}}
{{- end -}}
{{- if and (eq .Values.sessions.ingress "host") (not .Values.sessions.domain) -}}
{{- fail "sessions.ingress=host needs sessions.domain" -}}
{{- end -}}
{{- if and (eq .Values.sessions.ingress "path") (not .Values.sessions.host) -}}
{{- fail "sessions.ingress=path needs sessions.host" -}}
{{- end -}}
{{- if and (ne .Values.gateway.mode "off") (ne .Values.sessions.ingress "none") -}}
{{- fail (printf "sessions.ingress=%s routes straight to sessions, around the session gateway: keep sessions.ingress=none (the apps domain goes to the gateway) or set gateway.mode=off" .Values.sessions.ingress) -}}
{{- end -}}
{{- if and .Values.ingress.enabled (ne .Values.gateway.mode "off") (eq (include "streamspace.appsDomain" . | splitList ":" | first) .Values.ingress.host) -}}
{{- fail "gateway.appsDomain must differ from ingress.host: sessions on the platform's origin could act as the platform" -}}
{{- end -}}
{{- end -}}

{{/* The apps domain: set, or apps.<ingress host> when the chart's Ingress is on (else the server's local default). */}}
{{- define "streamspace.appsDomain" -}}
{{- if .Values.gateway.appsDomain -}}
{{- .Values.gateway.appsDomain -}}
{{- else if .Values.ingress.enabled -}}
{{- printf "apps.%s" .Values.ingress.host -}}
{{- end -}}
{{- end -}}

{{/* The platform's external URL: set, or from the chart's Ingress (https when it has a TLS secret). */}}
{{- define "streamspace.publicUrl" -}}
{{- if .Values.auth.publicUrl -}}
{{- .Values.auth.publicUrl -}}
{{- else if .Values.ingress.enabled -}}
{{- printf "%s://%s" (ternary "https" "http" (ne .Values.ingress.tlsSecret "")) .Values.ingress.host -}}
{{- end -}}
{{- end -}}

{{- define "streamspace.postgresqlName" -}}
{{- printf "%s-postgresql" (include "streamspace.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The bundled database Service's address as the kubelet injects it into pods created after the Service (which
Helm installs first): the platform reaches its database without relying on cluster DNS. */}}
{{- define "streamspace.postgresqlServiceEnv" -}}
{{- include "streamspace.postgresqlName" . | upper | replace "-" "_" -}}
{{- end -}}

{{/* A generated secret value that stays the same across upgrades: the value in the live Secret, else a new one. */}}
{{- define "streamspace.generated" -}}
{{- $secret := lookup "v1" "Secret" .ctx.Release.Namespace (printf "%s-generated" (include "streamspace.fullname" .ctx)) -}}
{{- if and $secret $secret.data (hasKey $secret.data .key) -}}
{{- index $secret.data .key | b64dec -}}
{{- else -}}
{{- randAlphaNum 32 -}}
{{- end -}}
{{- end -}}

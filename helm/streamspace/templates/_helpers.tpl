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

{{- define "streamspace.sessionNamespace" -}}
{{- default .Release.Namespace .Values.sessionNamespace -}}
{{- end -}}

{{- define "streamspace.externalDatabase" -}}
{{- if or .Values.database.url .Values.database.existingSecret -}}true{{- end -}}
{{- end -}}

{{/* Cross-field rules the JSON schema cannot express. */}}
{{- define "streamspace.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not (include "streamspace.externalDatabase" .)) -}}
{{- fail "replicaCount > 1 needs an external PostgreSQL: set database.url or database.existingSecret (the embedded database lives on one pod's volume)" -}}
{{- end -}}
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

import { expect } from 'chai'
import { describe, it } from 'mocha'
import { parsePrometheusText } from './prometheus-text'

/** An excerpt of what the server's GET /metrics serves (prom-client's text format 0.0.4). */
const METRICS = `# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 151318528

# HELP nodejs_eventloop_lag_p99_seconds The 99th percentile of the recorded event loop delays.
# TYPE nodejs_eventloop_lag_p99_seconds gauge
nodejs_eventloop_lag_p99_seconds 0.012574719

# HELP streamspace_http_requests_total HTTP requests served, by method, route and status code.
# TYPE streamspace_http_requests_total counter
streamspace_http_requests_total{method="POST",route="/graphql",status_code="200"} 42
streamspace_http_requests_total{method="GET",route="/auth/providers",status_code="200"} 3

# HELP streamspace_graphql_operations_total GraphQL operations executed, by operation name, type and outcome.
# TYPE streamspace_graphql_operations_total counter
streamspace_graphql_operations_total{operation_name="MySessions",operation_type="query",outcome="success"} 17

# TYPE streamspace_http_request_duration_seconds histogram
streamspace_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/graphql",status_code="200"} 30
streamspace_http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/graphql",status_code="200"} 42
streamspace_http_request_duration_seconds_sum{method="POST",route="/graphql",status_code="200"} 0.8150000000000001
streamspace_http_request_duration_seconds_count{method="POST",route="/graphql",status_code="200"} 42
`

describe('parsePrometheusText', () => {
  it('reads every sample with its name, labels and value, skipping comments and blank lines', () => {
    const samples = parsePrometheusText(METRICS)
    expect(samples).to.have.length(9)
    expect(samples[0]).to.deep.equal({ name: 'process_resident_memory_bytes', labels: {}, value: 151318528 })
    expect(samples.find((s) => s.name === 'nodejs_eventloop_lag_p99_seconds')?.value).to.equal(0.012574719)
    expect(samples.filter((s) => s.name === 'streamspace_http_requests_total')).to.deep.equal([
      { name: 'streamspace_http_requests_total', labels: { method: 'POST', route: '/graphql', status_code: '200' }, value: 42 },
      { name: 'streamspace_http_requests_total', labels: { method: 'GET', route: '/auth/providers', status_code: '200' }, value: 3 },
    ])
    expect(samples.find((s) => s.name === 'streamspace_graphql_operations_total')?.labels).to.deep.equal({
      operation_name: 'MySessions',
      operation_type: 'query',
      outcome: 'success',
    })
  })

  it('keeps histogram series apart and reads a +Inf bucket label as text', () => {
    const buckets = parsePrometheusText(METRICS).filter((s) => s.name === 'streamspace_http_request_duration_seconds_bucket')
    expect(buckets.map((b) => [b.labels['le'], b.value])).to.deep.equal([
      ['0.005', 30],
      ['+Inf', 42],
    ])
    expect(parsePrometheusText(METRICS).find((s) => s.name.endsWith('_sum'))?.value).to.equal(0.8150000000000001)
  })

  it('unescapes label values (quote, backslash, newline) and ignores a trailing timestamp', () => {
    const [sample] = parsePrometheusText('app_info{path="C:\\\\apps",title="say \\"hi\\"",note="two\\nlines"} 1 1700000000000\n')
    expect(sample).to.deep.equal({ name: 'app_info', labels: { path: 'C:\\apps', title: 'say "hi"', note: 'two\nlines' }, value: 1 })
  })

  it('skips malformed lines and values that are not finite numbers', () => {
    const samples = parsePrometheusText(['9starts_with_a_digit 1', 'no_value', 'up NaN', 'limit +Inf', 'ok 2', 'ratio 1e-3'].join('\n'))
    expect(samples).to.deep.equal([
      { name: 'ok', labels: {}, value: 2 },
      { name: 'ratio', labels: {}, value: 0.001 },
    ])
  })

  it('reads Windows line endings and an empty exposition', () => {
    expect(parsePrometheusText('')).to.deep.equal([])
    expect(parsePrometheusText('# HELP up Up.\r\nup 1\r\n')).to.deep.equal([{ name: 'up', labels: {}, value: 1 }])
  })
})

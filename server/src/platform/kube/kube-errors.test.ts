import 'reflect-metadata';
import { ApiException, KubeConfig } from '@kubernetes/client-node';
import { expect } from 'chai';
import { AppError, ErrorCode } from '../graphql/errors';
import { isConflict, isNotFound, kubeMessage, kubeStatusCode, noCluster } from './kube-errors';
import { KubeHttpError } from './kube-http';
import { StreamSpaceApi } from './streamspace-api';

describe('kube: the StreamSpace API seam (pure)', () => {
  it('reads the status code of every failure shape the clients throw', () => {
    const notFound = new ApiException(404, 'Not Found', JSON.stringify({ kind: 'Status', message: 'sessions "x" not found' }), {});
    expect(kubeStatusCode(notFound)).to.equal(404);
    expect(isNotFound(notFound)).to.equal(true);
    expect(isConflict(notFound)).to.equal(false);
    expect(kubeMessage(notFound)).to.equal('sessions "x" not found');
    expect(kubeStatusCode(new KubeHttpError(409, 'Conflict', '409 Conflict: x'))).to.equal(409);
    expect(isConflict({ response: { statusCode: 409 } })).to.equal(true);
    expect(kubeStatusCode({ statusCode: 410 })).to.equal(410);
    // A system error's code is a string, not an HTTP status.
    expect(kubeStatusCode(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).to.equal(undefined);
    expect(kubeStatusCode(undefined)).to.equal(undefined);
    expect(kubeMessage(new Error('plain'))).to.equal('Error: plain');
  });

  it('answers SERVICE_UNAVAILABLE without a cluster, naming what is missing when asked', () => {
    const plain = noCluster();
    expect(plain).to.be.instanceOf(AppError);
    expect(plain.code).to.equal(ErrorCode.SERVICE_UNAVAILABLE);
    expect(plain.message).to.equal('No Kubernetes cluster is configured (STREAMSPACE_CLUSTER=none)');
    expect(noCluster('sessions and templates').message).to.equal(
      'No Kubernetes cluster is configured (STREAMSPACE_CLUSTER=none); sessions and templates are unavailable',
    );
  });

  it('builds each kind of the namespace from one group and version', () => {
    const api = new StreamSpaceApi(new KubeConfig(), 'apps');
    expect(api.sessions.path).to.equal('/apis/stream.streamspace.io/v1alpha1/namespaces/apps/sessions');
    expect(api.templates.path).to.equal('/apis/stream.streamspace.io/v1alpha1/namespaces/apps/templates');
    expect(api.connections.path).to.equal('/apis/stream.streamspace.io/v1alpha1/namespaces/apps/connections');
    expect(api.repositories.path).to.equal('/apis/stream.streamspace.io/v1alpha1/namespaces/apps/templaterepositories');
  });
});

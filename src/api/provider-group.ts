// The provider's API group and version, apart from the kinds so every kind's module can import them.
export const PROVIDER_GROUP = 'grants.pgplane.io';
export const PROVIDER_VERSION = 'v1alpha1';

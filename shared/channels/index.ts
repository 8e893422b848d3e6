/** The channels of a deployment: named sender numbers with their users, servers and secrets. */
export * from './channels-file';

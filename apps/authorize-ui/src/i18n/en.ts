// The English message catalogue: every word the pages show. Other languages copy its keys.

export const en = {
  brand: 'Platform',
  skip: 'Skip to content',
  'nav.integrations': 'Connected integrations',
  'nav.signedInAs': 'Signed in as {email}',
  'nav.signOut': 'Sign out',

  'login.title': 'Sign in',
  'login.intro': 'Sign in to your platform account to continue.',
  'login.email': 'Email',
  'login.password': 'Password',
  'login.submit': 'Sign in',
  'login.failed': 'Email or password is incorrect.',

  'home.title': 'Your account',
  'home.body': 'You are signed in. Partner integrations you add from their sites will ask for your permission here.',
  'home.integrations': 'See and remove the integrations connected to your apps',

  'pick.title': 'Choose an app',
  'pick.heading': 'Choose an app for {client}',
  'pick.intro': 'Which of your apps should {client} be added to?',
  'pick.legend': 'Your apps',
  'pick.submit': 'Continue',

  'consent.title': 'Allow {client}?',
  'consent.heading': '{client} wants access to {app}',
  'consent.website': 'Website',
  'consent.app': 'App',
  'consent.chooseAnother': 'Choose another app',
  'consent.already': '{client} already has access to {app} since {since}. Allowing again gives it the permissions below instead.',
  'consent.scopesIntro': 'If you allow it, {client} will be able to:',
  'consent.redirect': 'Afterwards you will be sent to {host}.',
  'consent.notYou': 'Not you?',
  'consent.switch': 'Switch account',
  'consent.allow': 'Allow',
  'consent.deny': 'Deny',

  'noApp.title': 'No app yet',
  'noApp.heading': 'You have no app yet',
  'noApp.body':
    '{client} is added to an app by one of its owners, and your account owns none. Ask an owner, create an app, or sign in with another account.',

  'signedOut.title': 'Signed out',
  'signedOut.heading': 'You are signed out',
  'signedOut.again': 'Sign in again',

  'integrations.title': 'Connected integrations',
  'integrations.intro': 'Partners with access to the apps you own. Removing one stops its access at once.',
  'integrations.none': 'No partner has access to your apps.',
  'integrations.since': 'Connected since {since}',
  'integrations.remove': 'Remove',
  'integrations.removeLabel': 'Remove {client} from {app}',
  'integrations.removed': '{client} no longer has access to {app}.',

  'error.unknownClient.title': 'Unknown partner',
  'error.unknownClient.message': 'This link names a partner integration that does not exist or is not available.',
  'error.badRedirectUri.title': 'Invalid redirect address',
  'error.badRedirectUri.message':
    'This link asks to send you to an address the partner has not registered, so we stopped here to keep your account safe.',
  'error.repeatedParameter.title': 'Invalid request',
  'error.repeatedParameter.message': 'This link repeats a parameter that must appear once.',
  'error.invalidRequest.title': 'Invalid request',
  'error.invalidRequest.message': 'The request could not be understood.',
  'error.expiredRequest.title': 'This request has expired',
  'error.expiredRequest.message': 'The authorization request is no longer valid. Go back to the partner’s site and start again.',
  'error.notMember.title': 'Not your app',
  'error.notMember.message': 'You are not an owner of the app you selected: only owners connect partners to an app.',
  'error.notOwner.title': 'Not your integration',
  'error.notOwner.message': 'This integration is already removed, or it is on an app you do not own.',
  'error.forbidden.title': 'Request refused',
  'error.forbidden.message': 'This form was not sent from this site, or it has expired. Go back and try again.',
  'error.tooManyAttempts.title': 'Too many attempts',
  'error.tooManyAttempts.message': 'Too many attempts from here or for this account. Wait a moment, then try again.',
  'error.notFound.title': 'Page not found',
  'error.notFound.message': 'There is nothing at this address.',
  'error.serverError.title': 'Something went wrong',
  'error.serverError.message': 'We could not complete this request. Please try again.',
  'error.unavailable.title': 'Temporarily unavailable',
  'error.unavailable.message': 'The service is busy or under maintenance. Please try again in a moment.',
  'error.home': 'Go to your account',
} as const;

export type MessageKey = keyof typeof en;
export type Catalogue = Record<MessageKey, string>;

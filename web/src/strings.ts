// Every user-visible string of the web UI, in one place (English only).

export const S = {
  appName: 'Bot-Mox',
  loading: 'Loading…',

  common: {
    retry: 'Retry',
    yes: 'Yes',
    no: 'No',
    unknown: 'unknown',
    networkError: 'Cannot reach the server',
    unexpectedResponse: (status: number) => `Unexpected response from the server (HTTP ${status})`,
  },

  header: {
    back: 'Back',
    darkTheme: 'Dark theme',
    lightTheme: 'Light theme',
    themeSwitch: 'Theme',
    userMenu: 'User menu',
    settings: 'Settings',
    signOut: 'Sign out',
  },

  tree: {
    panel: 'Resource tree',
    hidePanel: 'Hide panel',
    showPanel: 'Show panel',
    expandAll: 'Expand all',
    collapseAll: 'Collapse all',
    resize: 'Resize the resource tree',
    overview: 'Overview',
    projects: 'Projects',
    noProjects: 'No projects yet',
    archive: 'Archive',
    resources: 'Resources',
    licenses: 'Licenses',
    proxies: 'Proxies',
    subscriptions: 'Subscriptions',
    vms: 'Virtual Machines',
    workspace: 'Workspace',
    notes: 'Notes',
    calendar: 'Calendar',
    kanban: 'Kanban',
    finance: 'Finance',
    settings: 'Settings',
    agents: 'Agents',
  },

  crumbs: {
    overview: 'Overview',
    projects: 'Projects',
    resources: 'Resources',
    workspace: 'Workspace',
    archive: 'Archive',
    bannedHistory: 'Banned History',
    sites: 'Sites',
  },

  login: {
    title: 'Bot-Mox Login',
    email: 'Email',
    emailRequired: 'Email is required',
    emailInvalid: 'Enter a valid email address',
    password: 'Password',
    passwordRequired: 'Password is required',
    signIn: 'Sign in',
  },

  setup: {
    title: 'Create the first admin',
    intro:
      'This one-time step creates the administrator account of this Bot-Mox server. You will be signed in afterwards.',
    token: 'Setup token',
    tokenHelp:
      'The one-time setup URL is printed in the server log when it starts with no admin; paste the token= part, or open that URL',
    tokenRequired: 'The setup token is required',
    email: 'Email',
    password: 'Password',
    confirm: 'Confirm password',
    passwordMin: (n: number) => `At least ${n} characters`,
    confirmRequired: 'Repeat the password',
    mismatch: 'The passwords do not match',
    submit: 'Create admin',
    created: 'Admin account created',
    doneTitle: 'Setup is already done',
    doneText: 'An administrator account exists. Sign in with it.',
    goToLogin: 'Go to the login page',
    checkFailed: 'Could not ask the server whether setup is still needed.',
  },

  overview: {
    tab: 'Summary',
    title: 'Overview',
    subtitle: 'Your session, the state of this server and where to find the API',
    sectionStatus: 'Status',
    sectionApi: 'API',
    signedInAs: 'Signed in as',
    email: 'Email',
    roles: 'Roles',
    noRoles: 'none',
    tenant: 'Tenant',
    userId: 'User ID',
    sessionExpires: 'Session expires',
    server: 'Server',
    service: 'Service',
    version: 'Version',
    dataBackend: 'Data backend',
    objectStore: 'Object store',
    uptime: 'Uptime',
    health: 'Health',
    healthOk: 'ok',
    healthFailed: 'unreachable',
    readiness: 'Readiness',
    checks: 'Checks',
    checkDatabase: 'Database',
    checkObjectStore: 'Object store',
    required: 'required',
    optional: 'optional',
    checkReady: 'ready',
    checkNotReady: 'not ready',
    lastChecked: 'Last checked',
    refresh: 'Refresh',
    apiReference: 'API reference',
    apiReferenceText:
      'Every screen of this UI uses the public REST API. Its interactive reference and the OpenAPI document are served by this server:',
    apiDocs: 'Interactive reference (/api/docs)',
    openapi: 'OpenAPI document (/api/v1/openapi.json)',
  },

  placeholder: {
    arrives: 'This page arrives with a later release',
    backToOverview: 'Back to Overview',
  },

  pages: {
    licenses: {
      title: 'Licenses',
      text: 'Licenses: track license keys, their expiry and which bots use them.',
    },
    proxies: {
      title: 'Proxies',
      text: 'Proxies: keep the proxies (address, port, credentials) of your bots, check them, and track their expiry and bans.',
    },
    subscriptions: {
      title: 'Subscriptions',
      text: 'Subscriptions: track the game subscriptions of each bot and warn before they expire.',
    },
    vms: {
      title: 'Virtual Machines',
      text: 'Virtual Machines: generate, provision and control the virtual machines of your bots through the agents.',
    },
    sites: {
      title: 'Service sites',
      text: 'Service sites: open the web interfaces of Proxmox, TinyFileManager and SyncThing inside Bot-Mox.',
    },
    notes: {
      title: 'Notes',
      text: 'Notes: write Markdown notes, pin the important ones and find them again quickly.',
    },
    calendar: {
      title: 'Calendar',
      text: 'Calendar: plan events and reminders by month and week.',
    },
    kanban: {
      title: 'Kanban',
      text: 'Kanban: organise tasks on a board of columns and move cards between them.',
    },
    finance: {
      title: 'Finance',
      text: 'Finance: record income and expenses, gold sales per project, and show totals and charts over time.',
    },
    settings: {
      title: 'Settings',
      text: 'Settings: edit projects, alert thresholds, the theme, API keys and the other server-wide settings.',
    },
    agents: {
      title: 'Agents',
      text: 'Agents: list the agents running on your hosts, pair new ones and revoke their tokens.',
    },
    project: {
      title: 'Project',
      text: 'Project: list the bots of this project with their status, VM, account, character and resources.',
    },
    bot: {
      title: 'Bot',
      text: 'Bot: show the summary, monitoring, configuration, resources and VM of one bot.',
    },
    archive: {
      title: 'Banned History',
      text: 'Archive: list banned bots with their ban history, and unban them.',
    },
  },
} as const;

export type PageKey = keyof typeof S.pages;

// The app's Microsoft Entra registration, declared with the Microsoft Graph Bicep extension (types v1.0; the alias
// is in infra/bicepconfig.json): the application with its three app roles, its service principal, and the app roles
// of the person deploying. App Service authentication on the Function App (app/api.bicep) accepts tokens for it;
// the Logic Apps' roles are assigned next to their identity (app/logicapps.bicep).
// No credential of any kind: the registration only receives tokens (a resource API), it never signs anyone in,
// so it needs no password or certificate (App Service validates bearer tokens with Entra's signing keys).
extension microsoftGraphV1

@description('Tenant-unique key of the registration (uniqueName): the same value on every deployment updates the same application instead of creating another.')
param uniqueName string

@description('Name people see in Entra (App registrations, Enterprise applications).')
param displayName string

@description('Object id of the person or pipeline deploying; given deployerRoles. Empty to give no one a role.')
param deployerPrincipalId string = ''

@description('App role values given to deployerPrincipalId.')
@allowed([
  'Migrations.Read'
  'Migrations.Operate'
  'Migrations.Approve'
])
param deployerRoles array = []

@description('Client ids of public clients that may ask for a user token for this API without a consent prompt (Azure CLI for the command line).')
param preAuthorizedClientIds array = []

// Stable ids: derived from the registration's key, so a re-deployment declares the same roles and never orphans an
// assignment (Graph requires a caller-chosen GUID for each app role and delegated scope).
var roleIds = {
  read: guid(uniqueName, 'Migrations.Read')
  operate: guid(uniqueName, 'Migrations.Operate')
  approve: guid(uniqueName, 'Migrations.Approve')
}
var roleIdByValue = {
  'Migrations.Read': roleIds.read
  'Migrations.Operate': roleIds.operate
  'Migrations.Approve': roleIds.approve
}
var scopeId = guid(uniqueName, 'user_impersonation')

// The values migration/access.py checks (Role); allowedMemberTypes User and Application: people and workloads alike.
var appRoles = [
  {
    id: roleIds.read
    value: 'Migrations.Read'
    displayName: 'Read migrations'
    description: 'Read migration statuses, machine details, reports and lists.'
    allowedMemberTypes: [
      'User'
      'Application'
    ]
    isEnabled: true
  }
  {
    id: roleIds.operate
    value: 'Migrations.Operate'
    displayName: 'Operate migrations'
    description: 'Submit migrations and cancel, retry or postpone them; includes reading them.'
    allowedMemberTypes: [
      'User'
      'Application'
    ]
    isEnabled: true
  }
  {
    id: roleIds.approve
    value: 'Migrations.Approve'
    displayName: 'Approve cutovers'
    description: 'Approve or reject a cutover waiting for approval; includes reading migrations.'
    allowedMemberTypes: [
      'User'
      'Application'
    ]
    isEnabled: true
  }
]

// v2 access tokens (issuer login.microsoftonline.com/<tenant>/v2.0, audience the client id), the form App Service
// authentication is configured for. One delegated scope lets a signed-in user's client (Azure CLI) obtain a user token;
// what the user may do still comes only from the app roles assigned to them. Admin-consent type: no user can consent
// to some other client on their own; the pre-authorised clients need no consent.
var apiSettings = {
  requestedAccessTokenVersion: 2
  oauth2PermissionScopes: [
    {
      id: scopeId
      value: 'user_impersonation'
      type: 'Admin'
      isEnabled: true
      adminConsentDisplayName: 'Call the migration orchestrator as the signed-in user'
      adminConsentDescription: 'Lets the client call the migration orchestrator API as the signed-in user, with the app roles assigned to that user.'
    }
  ]
  preAuthorizedApplications: [for clientId in preAuthorizedClientIds: {
    appId: clientId
    delegatedPermissionIds: [
      scopeId
    ]
  }]
}

var owners = {
  relationships: [
    deployer().objectId
  ]
}

// First pass: the application, without its Application ID URI, which is built from the appId Entra assigns here.
resource registration 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: 'AzureADMyOrg'
  api: apiSettings
  appRoles: appRoles
  owners: owners
}

// Second pass, same uniqueName: the Application ID URI api://<appId>. That is the default form, accepted even where
// the tenant's app management policy blocks every other identifier URI (nonDefaultUriAddition: only api://{appId}
// or api://{tenantId}/{appId}); Microsoft Learn, "identifierUriConfiguration" and "Restrictions on identifier URIs of
// Microsoft Entra applications". The Graph extension updates by uniqueName, so each deployment runs both passes and
// ends in the same state.
resource registrationUri 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: 'AzureADMyOrg'
  identifierUris: [
    'api://${registration.appId}'
  ]
  api: apiSettings
  appRoles: appRoles
  owners: owners
}

// appRoleAssignmentRequired: Entra issues a token for this API only to users and applications holding one of its
// app roles, so an unassigned member of the tenant is refused at sign-in, before App Service or the app see anything.
resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: registrationUri.appId
  appRoleAssignmentRequired: true
  owners: owners
}

// No principal, no assignment: the loop then runs over nothing.
var deployerRoleValues = empty(deployerPrincipalId) ? [] : deployerRoles

resource deployerAssignments 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [for role in deployerRoleValues: {
  principalId: deployerPrincipalId
  resourceId: servicePrincipal.id
  appRoleId: roleIdByValue[role]
}]

output clientId string = registrationUri.appId
output identifierUri string = 'api://${registrationUri.appId}'
output scope string = 'api://${registrationUri.appId}/.default'
output servicePrincipalId string = servicePrincipal.id
output readRoleId string = roleIds.read
output operateRoleId string = roleIds.operate
output approveRoleId string = roleIds.approve

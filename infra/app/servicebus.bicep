// Service Bus with exactly the entities the app uses, the same names and settings as the local emulator's
// configuration (emulators/servicebus/config.json). Local (SAS) auth is off; the app's identity gets data roles
// on each entity it uses, not on the namespace.
param name string
param location string
param tags object
@description('Principal id of the app identity.')
param appPrincipalId string
@description('Object id of a person allowed to send plans and read events by hand; empty to skip.')
param operatorPrincipalId string = ''

var dataSender = '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39' // Azure Service Bus Data Sender
var dataReceiver = '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0' // Azure Service Bus Data Receiver

resource namespace 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard' // topics and duplicate detection need Standard; Premium adds nothing the app uses
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
  }
}

// Plans to migrate, one per message; the message id is the idempotency key.
resource requests 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' = {
  parent: namespace
  name: 'migration-requests'
  properties: {
    lockDuration: 'PT1M'
    maxDeliveryCount: 5
    defaultMessageTimeToLive: 'P14D'
    deadLetteringOnMessageExpiration: true
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT10M'
  }
}

// Approve, reject, cancel, retry and postpone commands.
resource control 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' = {
  parent: namespace
  name: 'migration-control'
  properties: {
    lockDuration: 'PT1M'
    maxDeliveryCount: 5
    defaultMessageTimeToLive: 'P14D'
    deadLetteringOnMessageExpiration: true
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT10M'
  }
}

// Stage changes and final results as CloudEvents; duplicate detection drops a replayed publish.
resource events 'Microsoft.ServiceBus/namespaces/topics@2022-10-01-preview' = {
  parent: namespace
  name: 'migration-events'
  properties: {
    defaultMessageTimeToLive: 'P14D'
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT10M'
  }
}

// The app receives from both queues.
resource requestsReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(requests.id, appPrincipalId, dataReceiver)
  scope: requests
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataReceiver)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource controlReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(control.id, appPrincipalId, dataReceiver)
  scope: control
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataReceiver)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The app publishes events to the topic and nothing else.
resource eventsSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(events.id, appPrincipalId, dataSender)
  scope: events
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataSender)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The operator may submit plans and commands by hand.
resource operatorRequestsSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(requests.id, operatorPrincipalId, dataSender)
  scope: requests
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataSender)
    principalId: operatorPrincipalId
    principalType: 'User'
  }
}

resource operatorControlSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(control.id, operatorPrincipalId, dataSender)
  scope: control
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', dataSender)
    principalId: operatorPrincipalId
    principalType: 'User'
  }
}

output fullyQualifiedNamespace string = '${namespace.name}.servicebus.windows.net'
output namespaceId string = namespace.id

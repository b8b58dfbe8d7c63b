// Virtual Machine Contributor on one target or test virtual network, scoped to the network: it carries the
// subnet join and network read rights a failed-over VM's NIC needs, and nothing on other networks.
param networkName string
param principalId string

var virtualMachineContributor = '9980e02c-c2be-4d73-94e8-173b1dc7cf3c'

resource network 'Microsoft.Network/virtualNetworks@2023-11-01' existing = {
  name: networkName
}

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(network.id, principalId, virtualMachineContributor)
  scope: network
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', virtualMachineContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
